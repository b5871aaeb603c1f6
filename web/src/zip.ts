/**
 * ZIP reading for the browser with bounded memory: the central directory is read from the end of
 * the archive with ranged reads, and each entry is inflated on its own, only as far as needed.
 * A 4 GB archive never sits in memory; only one entry's header prefix (or, while it uploads, one
 * entry) does.
 */
import { Inflate } from 'fflate';

/** Reads bytes [start, end) of something (a File slice, an inflated entry…). */
export type ReadFn = (start: number, end: number) => Promise<Uint8Array>;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  encrypted: boolean;
}

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;
/** The most of an entry inflated to read its header; DICOM headers are far smaller. */
export const MAX_HEADER_PREFIX = 32 * 1024 * 1024;

export function blobReader(blob: Blob): ReadFn {
  return async (start, end) => new Uint8Array(await blob.slice(start, Math.min(end, blob.size)).arrayBuffer());
}

/** Lists the file entries (no directories, no macOS resource forks) from the central directory. */
export async function listZipEntries(read: ReadFn, archiveSize: number): Promise<ZipEntry[]> {
  if (archiveSize < 22) throw new ZipError('too small to be a ZIP archive');
  const tailStart = Math.max(0, archiveSize - 22 - MAX_COMMENT);
  const tail = await read(tailStart, archiveSize);
  const tv = view(tail);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('no end of central directory record');
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || tv.getUint32(locator, true) !== ZIP64_LOCATOR) throw new ZipError('ZIP64 locator missing');
    const zip64At = Number(tv.getBigUint64(locator + 8, true));
    const z = view(await read(zip64At, zip64At + 56));
    if (z.getUint32(0, true) !== ZIP64_EOCD) throw new ZipError('ZIP64 end record missing');
    count = Number(z.getBigUint64(32, true));
    cdSize = Number(z.getBigUint64(40, true));
    cdOffset = Number(z.getBigUint64(48, true));
  }
  if (cdOffset + cdSize > archiveSize) throw new ZipError('central directory outside the archive');
  const cd = await read(cdOffset, cdOffset + cdSize);
  const cv = view(cd);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cv.getUint32(p, true) !== CENTRAL) throw new ZipError('damaged central directory');
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let size = cv.getUint32(p + 24, true);
    const nameLength = cv.getUint16(p + 28, true);
    const extraLength = cv.getUint16(p + 30, true);
    const commentLength = cv.getUint16(p + 32, true);
    let localHeaderOffset = cv.getUint32(p + 42, true);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLength);
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(nameBytes);
    // ZIP64 extra field: only the fields that overflowed are present, in this order.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) (size = Number(cv.getBigUint64(q, true))), (q += 8);
        if (compressedSize === 0xffffffff) (compressedSize = Number(cv.getBigUint64(q, true))), (q += 8);
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(cv.getBigUint64(q, true));
      }
      e += 4 + len;
    }
    p = extraEnd + commentLength;
    if (name.endsWith('/') || name.startsWith('__MACOSX/') || name.split('/').pop() === '.DS_Store') continue;
    entries.push({ name, method, compressedSize, size, localHeaderOffset, encrypted: (flags & 1) === 1 });
  }
  return entries;
}

/** Where the entry's (compressed) data starts: after its local header. */
export async function entryDataStart(read: ReadFn, entry: ZipEntry): Promise<number> {
  const h = await read(entry.localHeaderOffset, entry.localHeaderOffset + 30);
  const hv = view(h);
  if (h.length < 30 || hv.getUint32(0, true) !== LOCAL) throw new ZipError(`damaged local header for ${entry.name}`);
  return entry.localHeaderOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
}

function assertReadable(entry: ZipEntry): void {
  if (entry.encrypted) throw new ZipError(`${entry.name} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8) throw new ZipError(`${entry.name} uses an unsupported compression method`);
}

/**
 * Random access to an entry's uncompressed bytes. Stored entries are plain ranged reads; deflated
 * entries inflate from the start as far as the furthest byte asked for (capped at MAX_HEADER_PREFIX),
 * which suits header reading: it only ever asks for a prefix.
 */
export function entryReader(read: ReadFn, entry: ZipEntry, dataStart: number): ReadFn {
  assertReadable(entry);
  if (entry.method === 0) {
    return (start, end) => read(dataStart + start, dataStart + Math.min(end, entry.size));
  }
  const chunks: Uint8Array[] = [];
  let inflated = 0;
  let consumed = 0;
  const inflater = new Inflate((data) => {
    chunks.push(data);
    inflated += data.length;
  });
  return async (start, end) => {
    const want = Math.min(end, entry.size);
    if (want > MAX_HEADER_PREFIX) throw new ZipError(`${entry.name}: header larger than ${MAX_HEADER_PREFIX} bytes`);
    while (inflated < want && consumed < entry.compressedSize) {
      const next = Math.min(entry.compressedSize, consumed + 64 * 1024);
      const chunk = await read(dataStart + consumed, dataStart + next);
      consumed = next;
      inflater.push(chunk, consumed === entry.compressedSize);
    }
    return copyRange(chunks, start, Math.min(want, inflated));
  };
}

/** The whole entry as a Blob, inflated chunk by chunk (used right before it uploads). */
export async function entryBlob(archive: Blob, entry: ZipEntry, dataStart: number, type = ''): Promise<Blob> {
  assertReadable(entry);
  if (entry.method === 0) return archive.slice(dataStart, dataStart + entry.size, type);
  const parts: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((data) => {
    parts.push(data);
    total += data.length;
  });
  const read = blobReader(archive);
  for (let consumed = 0; consumed < entry.compressedSize; ) {
    const next = Math.min(entry.compressedSize, consumed + 1024 * 1024);
    inflater.push(await read(dataStart + consumed, dataStart + next), next === entry.compressedSize);
    consumed = next;
  }
  if (total !== entry.size) throw new ZipError(`${entry.name}: inflated to ${total} bytes, expected ${entry.size}`);
  return new Blob(parts as BlobPart[], { type });
}

function copyRange(chunks: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, end - start));
  let offset = 0;
  for (const chunk of chunks) {
    const chunkEnd = offset + chunk.length;
    if (chunkEnd > start && offset < end) {
      const from = Math.max(start, offset) - offset;
      const to = Math.min(end, chunkEnd) - offset;
      out.set(chunk.subarray(from, to), Math.max(start, offset) - start);
    }
    offset = chunkEnd;
    if (offset >= end) break;
  }
  return out;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
