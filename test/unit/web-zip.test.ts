import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { blobReader, entryBlob, entryDataStart, entryReader, listZipEntries, ZipError } from '../../web/src/zip';
import { classify, classifyAll, scanZip } from '../../web/src/scan';
import { CORPUS_ROOT } from '../corpus';

const corpus = join(CORPUS_ROOT, 'pydicom/test_files');
const ct = readFileSync(join(corpus, 'CT_small.dcm'));
const mr = readFileSync(join(corpus, 'MR_small.dcm'));
const dicomdir = readFileSync(join(corpus, 'dicomdirtests/DICOMDIR'));
const pdf = strToU8('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n');

/** Records every byte range read, to prove header reading never reads whole entries. */
function countingReader(blob: Blob) {
  const read = blobReader(blob);
  const ranges: [number, number][] = [];
  return { ranges, read: (s: number, e: number) => (ranges.push([s, e]), read(s, e)) };
}

describe('ZIP reading (central directory + one entry at a time)', () => {
  const archive = new Blob([
    zipSync({
      'study/CT_small.dcm': [ct, { level: 6 }],
      'study/MR_small.dcm': [mr, { level: 0 }],
      'DICOMDIR': [dicomdir, { level: 6 }],
      'report.pdf': [pdf, { level: 6 }],
      'notes.txt': [strToU8('hello'), { level: 6 }],
      'empty/': new Uint8Array(0),
    }) as BlobPart,
  ]);

  it('lists file entries with sizes and methods, skipping folders', async () => {
    const entries = await listZipEntries(blobReader(archive), archive.size);
    expect(entries.map((e) => [e.name, e.size, e.method])).toEqual([
      ['study/CT_small.dcm', ct.length, 8],
      ['study/MR_small.dcm', mr.length, 0],
      ['DICOMDIR', dicomdir.length, 8],
      ['report.pdf', pdf.length, 8],
      ['notes.txt', 5, 8],
    ]);
  });

  it('classifies every entry with the shared DICOM reader', async () => {
    const seen: Record<string, string> = {};
    for await (const { entry, result } of scanZip(archive)) seen[entry.name] = result.kind === 'skip' ? `skip:${result.reason}` : result.kind;
    expect(seen).toEqual({ 'study/CT_small.dcm': 'dicom', 'study/MR_small.dcm': 'dicom', DICOMDIR: 'dicomdir', 'report.pdf': 'attachment', 'notes.txt': 'skip:unsupported' });
  });

  it('reads a deflated entry header without inflating the whole entry', async () => {
    const { read, ranges } = countingReader(archive);
    const entries = await listZipEntries(read, archive.size);
    const entry = entries[0]!;
    const start = await entryDataStart(read, entry);
    ranges.length = 0;
    const result = await classify(entryReader(read, entry, start), entry.size);
    expect(result.kind === 'dicom' && result.dicom.studyInstanceUid).toBe('1.3.6.1.4.1.5962.1.2.1.20040119072730.12322');
    expect(result.kind === 'dicom' && result.dicom.patientId).toBe('1CT1');
    const bytesRead = ranges.reduce((sum, [s, e]) => sum + (e - s), 0);
    // CT_small's header is 6,300 bytes of a 39,206-byte file; we read one 64 KiB compressed chunk at most.
    expect(bytesRead).toBeLessThanOrEqual(64 * 1024);
    expect(bytesRead).toBeLessThan(entry.compressedSize + 1);
  });

  it('inflates an entry to exactly its bytes for upload', async () => {
    const entries = await listZipEntries(blobReader(archive), archive.size);
    for (const [i, original] of [[0, ct], [1, mr]] as const) {
      const entry = entries[i]!;
      const blob = await entryBlob(archive, entry, await entryDataStart(blobReader(archive), entry), 'application/dicom');
      expect(Buffer.from(await blob.arrayBuffer()).equals(original)).toBe(true);
      expect(blob.type).toBe('application/dicom');
    }
  });

  it('rejects something that is not a ZIP with a ZipError', async () => {
    const junk = new Blob([new Uint8Array(100)]);
    await expect(listZipEntries(blobReader(junk), junk.size)).rejects.toBeInstanceOf(ZipError);
  });
});

describe('classify (real corpus files)', () => {
  const cases: [string, string][] = [
    ['CT_small.dcm', 'dicom'],
    // DICOM datasets without the Part 10 file header: the inspector would refuse them, so the portal does.
    ['ExplVR_LitEndNoMeta.dcm', 'skip:NOT_PART10'],
    ['ExplVR_BigEndNoMeta.dcm', 'skip:NOT_PART10'],
    ['dicomdirtests/DICOMDIR', 'dicomdir'],
    ['dicomdirtests/README.txt', 'skip:unsupported'],
    ['dicomdirtests/TINY_ALPHA/PT000000/ST000000/SE000000/IM000000', 'dicom'],
  ];
  for (const [file, expected] of cases) {
    it(`${file} → ${expected}`, async () => {
      const bytes = readFileSync(join(corpus, file));
      const result = await classify(blobReader(new Blob([bytes])), bytes.length);
      expect(result.kind === 'skip' ? `skip:${result.reason}` : result.kind).toBe(expected);
    });
  }

  it('a JPEG and a PNG are attachments with their content type', async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
    expect(await classify(blobReader(new Blob([jpeg])), jpeg.length)).toEqual({ kind: 'attachment', attachmentType: 'jpeg', contentType: 'image/jpeg' });
    expect(await classify(blobReader(new Blob([png])), png.length)).toEqual({ kind: 'attachment', attachmentType: 'png', contentType: 'image/png' });
  });

  it('a DICOM file with an executable preamble (the DICOM/PE polyglot) is not uploadable: EXECUTABLE_PREAMBLE', async () => {
    const polyglot = Uint8Array.from(ct);
    polyglot.set([0x4d, 0x5a], 0); // 'MZ': a Windows program's header in the preamble
    expect(await classify(blobReader(new Blob([polyglot])), polyglot.length)).toEqual({ kind: 'skip', reason: 'EXECUTABLE_PREAMBLE' });
  });

  it('a truncated DICOM file is unreadable, not a crash', async () => {
    const cut = ct.subarray(0, 300);
    const result = await classify(blobReader(new Blob([cut])), cut.length);
    expect(result).toEqual({ kind: 'skip', reason: 'unreadable' });
  });
});

describe('classifyAll', () => {
  it('answers every job exactly once, in batches, with reads running in parallel', async () => {
    const jobs = Array.from({ length: 1001 }, (_, i) => ({ id: `j${i}`, blob: new Blob([i % 3 === 0 ? ct : i % 3 === 1 ? pdf : new Uint8Array(10)]) }));
    const seen: string[] = [];
    const batches: number[] = [];
    await classifyAll(jobs, (results) => {
      batches.push(results.length);
      seen.push(...results.map((r) => r.id));
    }, { readsInFlight: 8, batchSize: 100 });
    expect(seen.sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(Math.max(...batches)).toBeLessThanOrEqual(100);
    expect(batches.length).toBeGreaterThanOrEqual(11);
  });
});
