/**
 * The DICOM header reader, shared by the inspector Lambda, the CLI and the browser portal (also in a Web Worker):
 * pure, no Node imports. Fields are keyword-named and decoded with the file's character set. PHI: never log them.
 */
export type { CompleteHeader, HeaderFields, HeaderResult, NeedMoreBytes, NumericField, SniffedKind } from './types';
export { InvalidDicomError, type InvalidDicomReason } from './invalid-dicom-error';
export { readDicomHeader } from './read-dicom-header';
export { readHeaderFrom, readHeaderFromSync, type RangeReader, type SyncRangeReader } from './read-header-from';
export { sniffKind } from './sniff-kind';
export { part10Refusal, preambleExecutable, type Part10Refusal, type PreambleExecutable } from './part10';
