/**
 * Identifier reconciliation (IHE Import Reconciliation Workflow) as a splice of the header bytes:
 * Patient ID and Accession Number get the hospital's values, the original Patient ID (and its issuer)
 * goes into an item of Other Patient IDs Sequence (0010,1002), every replaced element is kept as it was
 * in a new item of Original Attributes Sequence (0400,0561), and every other byte of the file stays as
 * it was. Only the elements up to (0400,0561) are rewritten; the rest of the file, pixel data
 * included, is streamed unchanged from `restFrom`, so memory does not grow with the file.
 */
import { startsWith } from '../dicom/bytes';
import { listElements, type ElementSpan } from '../dicom/list-elements';
import { EXPLICIT_BIG, IMPLICIT_LITTLE, ITEM, SEQUENCE_DELIMITER } from '../dicom/tags';
import type { CompleteHeader, HeaderFields } from '../dicom/types';
import type { IdentifierRules } from '../delivery-config';
import { encodeElements, writePart10 } from './dicom-writer';
import { UndeliverableError } from './undeliverable-error';

const GROUP_LENGTH_0008 = 0x00080000;
const ACCESSION_NUMBER = 0x00080050;
const GROUP_LENGTH_0010 = 0x00100000;
const PATIENT_ID = 0x00100020;
const ISSUER_OF_PATIENT_ID = 0x00100021;
const OTHER_PATIENT_IDS_SEQUENCE = 0x00101002;
const ORIGINAL_ATTRIBUTES_SEQUENCE = 0x04000561;
/** LO holds 64 characters, SH 16 (PS3.5 table 6.2-1). */
const MAX_PATIENT_ID = 64;
const MAX_ACCESSION_NUMBER = 16;

/** The values that change; an absent field stays as uploaded. */
export interface IdentifierChanges {
  patientId?: string;
  /** '' empties it (accessionNumber "remove"). */
  accessionNumber?: string;
  /** The hospital's issuer for the new Patient ID; without it the uploaded issuer moves into the sequence. */
  issuerOfPatientId?: string;
  /** When the values were replaced (DICOM DT), recorded with the originals in Original Attributes Sequence. */
  modifiedAt?: string;
}

/** What the rules make of one file's identifiers; throws UndeliverableError when a value would not fit its VR. */
export function identifierChanges(rules: IdentifierRules, fields: HeaderFields, reference: string | undefined): IdentifierChanges {
  const changes: IdentifierChanges = {};
  const originalId = fields.patientId ?? '';
  const patientId =
    rules.patientId === 'keep' ? originalId : rules.patientId === 'reference' && reference ? reference : `${rules.prefix}${originalId}`;
  if (patientId !== originalId) {
    if (patientId.length > MAX_PATIENT_ID) throw new UndeliverableError('IDENTIFIER_TOO_LONG', `the reconciled Patient ID would exceed ${MAX_PATIENT_ID} characters`);
    changes.patientId = patientId;
    if (rules.issuerOfPatientId) changes.issuerOfPatientId = rules.issuerOfPatientId;
  }
  const originalAccession = fields.accessionNumber ?? '';
  if (originalAccession !== '' && rules.accessionNumber !== 'keep') {
    const accession = rules.accessionNumber === 'remove' ? '' : `${rules.prefix}${originalAccession}`;
    if (accession.length > MAX_ACCESSION_NUMBER) {
      throw new UndeliverableError('IDENTIFIER_TOO_LONG', `the prefixed Accession Number would exceed ${MAX_ACCESSION_NUMBER} characters`);
    }
    changes.accessionNumber = accession;
  }
  return changes;
}

export type SpliceResult = { status: 'need-more'; bytesNeeded: number } | { status: 'ready'; header: Uint8Array; restFrom: number };

/**
 * The new header for a file whose first bytes are `prefix` (header: what readDicomHeader made of
 * them). The delivered file is `header` followed by the original bytes from `restFrom`.
 */
export function spliceIdentifiers(prefix: Uint8Array, fileSize: number, header: CompleteHeader, changes: IdentifierChanges): SpliceResult {
  const unchanged = changes.patientId === undefined && changes.accessionNumber === undefined;
  if (unchanged && header.hasPreamble) return { status: 'ready', header: new Uint8Array(0), restFrom: 0 };
  if (header.deflated) throw new UndeliverableError('DEFLATED_DATASET', 'a deflated dataset cannot have its identifiers reconciled');
  const transferSyntax = header.fields.transferSyntaxUid ?? IMPLICIT_LITTLE;
  const layout = datasetLayout(prefix, fileSize, header, transferSyntax);
  if ('bytesNeeded' in layout) return { status: 'need-more', bytesNeeded: layout.bytesNeeded };
  const listed = listElements(prefix, layout.datasetStart, fileSize, layout.encoding, ORIGINAL_ATTRIBUTES_SEQUENCE);
  if (listed.kind === 'need') return { status: 'need-more', bytesNeeded: listed.at };

  const syntax = layout.encoding.explicit ? (layout.encoding.littleEndian ? transferSyntax : EXPLICIT_BIG) : IMPLICIT_LITTLE;
  const pieces = rewrittenElements(prefix, listed.elements, changes, syntax, layout.encoding.littleEndian);
  const dataset = concat(pieces.sort((a, b) => a.tag - b.tag).map((p) => p.bytes));
  const lead = fileLead(prefix, header, layout, syntax);
  return { status: 'ready', header: concat([lead, dataset]), restFrom: listed.stop };
}

interface Piece {
  tag: number;
  bytes: Uint8Array;
}

function rewrittenElements(b: Uint8Array, elements: ElementSpan[], changes: IdentifierChanges, syntax: string, le: boolean): Piece[] {
  const find = (tag: number) => elements.find((e) => e.tag === tag);
  const raw = (e: ElementSpan | undefined) => (e ? b.subarray(e.start, e.end) : undefined);
  const encoded = (tag: number, vr: string, value: string): Piece => ({
    tag,
    bytes: encodeElements({ [hex(tag)]: { vr, Value: [value] } }, syntax),
  });
  const replaced = new Map<number, Piece | null>();
  // Group lengths (retired) would be wrong once a value changes length.
  replaced.set(GROUP_LENGTH_0008, null).set(GROUP_LENGTH_0010, null);
  if (changes.accessionNumber !== undefined) replaced.set(ACCESSION_NUMBER, encoded(ACCESSION_NUMBER, 'SH', changes.accessionNumber));
  if (changes.patientId !== undefined) {
    replaced.set(PATIENT_ID, encoded(PATIENT_ID, 'LO', changes.patientId));
    replaced.set(ISSUER_OF_PATIENT_ID, changes.issuerOfPatientId ? encoded(ISSUER_OF_PATIENT_ID, 'LO', changes.issuerOfPatientId) : null);
    const originalId = raw(find(PATIENT_ID));
    if (originalId && valueLength(find(PATIENT_ID)!) > 0) {
      const item = otherPatientIdItem(originalId, raw(find(ISSUER_OF_PATIENT_ID)), syntax, le);
      replaced.set(OTHER_PATIENT_IDS_SEQUENCE, { tag: OTHER_PATIENT_IDS_SEQUENCE, bytes: sequenceWith(OTHER_PATIENT_IDS_SEQUENCE, b, find(OTHER_PATIENT_IDS_SEQUENCE), item, syntax, le) });
    }
  }
  // Every element replaced or removed, as uploaded (the Accession Number has no other place to keep its
  // original); not the group lengths, and not Other Patient IDs Sequence, which only gains an item.
  const kept = new Set([GROUP_LENGTH_0008, GROUP_LENGTH_0010, OTHER_PATIENT_IDS_SEQUENCE]);
  const originals = [...replaced.keys()].filter((tag) => !kept.has(tag)).map(find).filter((e): e is ElementSpan => e !== undefined);
  if (originals.length > 0) {
    const item = originalAttributesItem(originals.sort((x, y) => x.tag - y.tag).map((e) => raw(e)!), changes.modifiedAt, syntax, le);
    replaced.set(ORIGINAL_ATTRIBUTES_SEQUENCE, { tag: ORIGINAL_ATTRIBUTES_SEQUENCE, bytes: sequenceWith(ORIGINAL_ATTRIBUTES_SEQUENCE, b, find(ORIGINAL_ATTRIBUTES_SEQUENCE), item, syntax, le) });
  }
  const pieces: Piece[] = [];
  for (const e of elements) {
    if (!replaced.has(e.tag)) pieces.push({ tag: e.tag, bytes: b.subarray(e.start, e.end) });
  }
  for (const piece of replaced.values()) if (piece) pieces.push(piece);
  return pieces;
}

/** One item: the original Patient ID and Issuer elements byte for byte (same character set), Type of Patient ID TEXT. */
function otherPatientIdItem(patientId: Uint8Array, issuer: Uint8Array | undefined, syntax: string, le: boolean): Uint8Array {
  const type = encodeElements({ '00100022': { vr: 'CS', Value: ['TEXT'] } }, syntax);
  const body = concat(issuer ? [patientId, issuer, type] : [patientId, type]);
  return concat([tagAndLength(ITEM, body.length, le), body]);
}

/**
 * One item of Original Attributes Sequence (PS3.3 C.12.1): the replaced elements byte for byte in its
 * Modified Attributes Sequence (0400,0550), when, by what, and why: COERCE, PS3.3's term for values
 * replaced on import from another institution.
 */
function originalAttributesItem(originals: Uint8Array[], modifiedAt: string | undefined, syntax: string, le: boolean): Uint8Array {
  const modifiedItem = concat([tagAndLength(ITEM, originals.reduce((n, o) => n + o.length, 0), le), ...originals]);
  const body = concat([
    sequenceWith(MODIFIED_ATTRIBUTES_SEQUENCE, new Uint8Array(0), undefined, modifiedItem, syntax, le),
    encodeElements(
      {
        '04000562': { vr: 'DT', Value: [modifiedAt ?? ''] },
        '04000563': { vr: 'LO', Value: [MODIFYING_SYSTEM] },
        '04000564': { vr: 'LO', Value: [] },
        '04000565': { vr: 'CS', Value: ['COERCE'] },
      },
      syntax,
    ),
  ]);
  return concat([tagAndLength(ITEM, body.length, le), body]);
}

const MODIFIED_ATTRIBUTES_SEQUENCE = 0x04000550;
/** Modifying System (0400,0563): who replaced the values. */
export const MODIFYING_SYSTEM = 'DICOM Upload Portal';

/** A sequence of undefined length: the existing items, if any, then the new one. */
function sequenceWith(tag: number, b: Uint8Array, existing: ElementSpan | undefined, item: Uint8Array, syntax: string, le: boolean): Uint8Array {
  const oldItems = existing ? b.subarray(existing.start + existing.header, existing.undefinedLength ? existing.end - 8 : existing.end) : new Uint8Array(0);
  const explicit = syntax !== IMPLICIT_LITTLE;
  const head = new Uint8Array(explicit ? 12 : 8);
  head.set(tagAndLength(tag, 0, le).subarray(0, 4));
  if (explicit) head.set([0x53, 0x51, 0, 0], 4);
  head.set(u32Bytes(0xffffffff, le), explicit ? 8 : 4);
  return concat([head, oldItems, item, tagAndLength(SEQUENCE_DELIMITER, 0, le)]);
}

/** DICOM DT in UTC, to the second. */
export function dicomDateTime(at: Date): string {
  return `${at.toISOString().replace(/[-:T]/g, '').slice(0, 14)}+0000`;
}

/** Where the file meta group starts (-1: none) and the dataset begins, and how the dataset is encoded. */
function datasetLayout(
  b: Uint8Array,
  fileSize: number,
  header: CompleteHeader,
  transferSyntax: string,
): { metaStart: number; datasetStart: number; encoding: { explicit: boolean; littleEndian: boolean } } | { bytesNeeded: number } {
  const encoding = {
    explicit: transferSyntax !== IMPLICIT_LITTLE && !header.warnings.includes('IMPLICIT_VR_DESPITE_TRANSFER_SYNTAX'),
    littleEndian: transferSyntax !== EXPLICIT_BIG,
  };
  const metaStart = header.hasPreamble ? 132 : startsWith(b, 0, 'DICM') ? 4 : b[0] === 0x02 && b[1] === 0x00 ? 0 : -1;
  if (metaStart < 0) return { metaStart, datasetStart: 0, encoding };
  // The meta group is always explicit VR little endian; its elements run until the first other group.
  const meta = listElements(b, metaStart, fileSize, { explicit: true, littleEndian: true }, 0x0002ffff);
  if (meta.kind === 'need') return { bytesNeeded: meta.at };
  return { metaStart, datasetStart: meta.stop, encoding };
}

/** Preamble, "DICM" and the file meta information: as uploaded, completed where the upload lacked them (STOW-RS needs Part 10). */
function fileLead(b: Uint8Array, header: CompleteHeader, layout: { metaStart: number; datasetStart: number }, syntax: string): Uint8Array {
  if (header.hasPreamble) return b.subarray(0, layout.datasetStart);
  if (layout.metaStart >= 0) return concat([new Uint8Array(128), DICM, b.subarray(layout.metaStart, layout.datasetStart)]);
  return newFileMeta(header, syntax);
}

const DICM = new Uint8Array([0x44, 0x49, 0x43, 0x4d]);

/** A dataset without file meta information (allowed for upload, not for STOW-RS) gets one. */
function newFileMeta(header: CompleteHeader, syntax: string): Uint8Array {
  const { sopClassUid, sopInstanceUid } = header.fields;
  if (!sopClassUid || !sopInstanceUid) throw new UndeliverableError('NOT_PART10', 'a dataset without SOP Class and Instance UIDs cannot be sent');
  return writePart10({ sopClassUid, sopInstanceUid, transferSyntaxUid: syntax }, {});
}

function valueLength(e: ElementSpan): number {
  return e.end - e.start - e.header;
}

function tagAndLength(tag: number, length: number, le: boolean): Uint8Array {
  const out = new Uint8Array(8);
  const group = tag >>> 16;
  const element = tag & 0xffff;
  out.set(le ? [group & 0xff, group >> 8, element & 0xff, element >> 8] : [group >> 8, group & 0xff, element >> 8, element & 0xff]);
  out.set(u32Bytes(length, le), 4);
  return out;
}

function u32Bytes(value: number, le: boolean): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, le);
  return out;
}

function hex(tag: number): string {
  return tag.toString(16).padStart(8, '0').toUpperCase();
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
