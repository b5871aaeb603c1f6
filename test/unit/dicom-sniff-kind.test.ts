/** sniffKind: magic bytes only. */
import { describe, expect, it } from 'vitest';
import { sniffKind } from '../../lambdas/core/dicom';
import { explicit, explicitBE, implicit, part10 } from './dicom-fixtures';

const ascii = (text: string) => new TextEncoder().encode(text);

describe('sniffKind', () => {
  it.each([
    ['a Part 10 file', part10([...explicit(0x00100010, 'PN', 'A^B')]), 'dicom'],
    ['an implicit VR dataset without preamble', new Uint8Array([...implicit(0x00080005, 'ISO_IR 100'), ...implicit(0x00080016, '1.2\0')]), 'dicom'],
    ['an explicit VR big endian dataset without preamble', new Uint8Array([...explicitBE(0x00080005, 'CS', 'ISO_IR 100'), ...explicitBE(0x00080060, 'CS', 'CT')]), 'dicom'],
    ['a PDF', ascii('%PDF-1.4\n%âãÏÓ\n'), 'pdf'],
    ['a JPEG', new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]), 'jpeg'],
    ['a PNG', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'png'],
    ['a ZIP', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0]), 'zip'],
    ['JSON', ascii('{\n  "a": 1\n}\n'), 'other'],
    ['a gzip file', new Uint8Array([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]), 'other'],
    ['zeros', new Uint8Array(200), 'other'],
    ['nothing', new Uint8Array(0), 'other'],
  ])('%s', (_name, bytes, kind) => {
    expect(sniffKind(bytes)).toBe(kind);
  });
});
