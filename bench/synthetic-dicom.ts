/**
 * Synthetic DICOM Part 10 files for benchmarks: a valid file meta group and dataset (Secondary
 * Capture, explicit VR little endian, 16-bit monochrome) followed by real pixel data. Generated once
 * into .bench-cache/ (gitignored) and reused while the parameters are the same.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
/** A UID root for synthetic data only (2.25 = UUID-derived UIDs, here a fixed bench prefix). */
const UID_ROOT = '2.25.1000000000000000000000000000';

/** Value bytes padded to even length: UIs with NUL, text with space (PS3.5 §6.2). */
function pad(value: string, vr: string): Buffer {
  const bytes = Buffer.from(value, 'latin1');
  if (bytes.length % 2 === 0) return bytes;
  return Buffer.concat([bytes, Buffer.from(vr === 'UI' ? [0] : [0x20])]);
}

/** One explicit-VR little-endian element. OB/OW/UN/SQ/UT use the 4-byte length form. */
function element(group: number, elementNo: number, vr: string, value: Buffer): Buffer {
  const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elementNo, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

const str = (g: number, e: number, vr: string, v: string) => element(g, e, vr, pad(v, vr));
const us = (g: number, e: number, v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return element(g, e, 'US', b);
};

export interface SyntheticFile {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  rows: number;
  columns: number;
  patientId: string;
}

/** The header (everything before Pixel Data's value) and the pixel data length of one file. */
export function syntheticHeader(f: SyntheticFile): { header: Buffer; pixelBytes: number } {
  const pixelBytes = f.rows * f.columns * 2;
  const metaElements = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    str(0x0002, 0x0002, 'UI', SECONDARY_CAPTURE),
    str(0x0002, 0x0003, 'UI', f.sopInstanceUid),
    str(0x0002, 0x0010, 'UI', EXPLICIT_VR_LITTLE_ENDIAN),
    str(0x0002, 0x0012, 'UI', `${UID_ROOT}.1`),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaElements.length);
  const dataset = Buffer.concat([
    str(0x0008, 0x0016, 'UI', SECONDARY_CAPTURE),
    str(0x0008, 0x0018, 'UI', f.sopInstanceUid),
    str(0x0008, 0x0020, 'DA', '20260101'),
    str(0x0008, 0x0060, 'CS', 'OT'),
    str(0x0008, 0x1030, 'LO', 'Synthetic benchmark study'),
    str(0x0010, 0x0010, 'PN', 'BENCH^SYNTHETIC'),
    str(0x0010, 0x0020, 'LO', f.patientId),
    str(0x0020, 0x000d, 'UI', f.studyInstanceUid),
    str(0x0020, 0x000e, 'UI', f.seriesInstanceUid),
    us(0x0028, 0x0002, 1),
    str(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    us(0x0028, 0x0010, f.rows),
    us(0x0028, 0x0011, f.columns),
    us(0x0028, 0x0100, 16),
    us(0x0028, 0x0101, 16),
    us(0x0028, 0x0102, 15),
    us(0x0028, 0x0103, 0),
  ]);
  const pixelHead = Buffer.alloc(12);
  pixelHead.writeUInt16LE(0x7fe0, 0);
  pixelHead.writeUInt16LE(0x0010, 2);
  pixelHead.write('OW', 4, 'latin1');
  pixelHead.writeUInt32LE(pixelBytes, 8);
  const header = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), element(0x0002, 0x0000, 'UL', groupLength), metaElements, dataset, pixelHead]);
  return { header, pixelBytes };
}

export interface DatasetEntry extends SyntheticFile {
  path: string;
  size: number;
}

export interface DatasetSpec {
  files: number;
  studies: number;
  rows: number;
  columns: number;
}

/**
 * Writes the data set into `dir` unless an identical one is there already (same spec, all files
 * present with their sizes). Returns one entry per file.
 */
export function ensureSyntheticDataset(dir: string, spec: DatasetSpec, log: (line: string) => void): DatasetEntry[] {
  const indexFile = join(dir, 'index.json');
  if (existsSync(indexFile)) {
    const cached = JSON.parse(readFileSync(indexFile, 'utf8')) as { spec: DatasetSpec; entries: DatasetEntry[] };
    const sameSpec = JSON.stringify(cached.spec) === JSON.stringify(spec);
    if (sameSpec && cached.entries.every((e) => existsSync(e.path) && statSync(e.path).size === e.size)) return cached.entries;
  }
  mkdirSync(dir, { recursive: true });
  log(`Generating ${spec.files} synthetic DICOM files into ${dir} (once) …`);
  const entries: DatasetEntry[] = [];
  const pixels = Buffer.alloc(spec.rows * spec.columns * 2);
  for (let i = 0; i < spec.files; i++) {
    const study = i % spec.studies;
    const file: SyntheticFile = {
      studyInstanceUid: `${UID_ROOT}.2.${study + 1}`,
      seriesInstanceUid: `${UID_ROOT}.3.${study + 1}.1`,
      sopInstanceUid: `${UID_ROOT}.4.${i + 1}`,
      rows: spec.rows,
      columns: spec.columns,
      patientId: 'BENCH0001',
    };
    const { header } = syntheticHeader(file);
    // A gradient that differs per file, so no two objects are byte-identical.
    for (let p = 0; p < pixels.length; p += 2) pixels.writeUInt16LE(((p >> 1) + i * 7919) & 0xffff, p);
    const path = join(dir, `${String(i).padStart(5, '0')}.dcm`);
    writeFileSync(path, Buffer.concat([header, pixels]));
    entries.push({ ...file, path, size: header.length + pixels.length });
  }
  writeFileSync(indexFile, JSON.stringify({ spec, entries }));
  return entries;
}
