/**
 * Pure core of the API: upload code format and normalisation, session tokens, the constant-time
 * token check, attachment types, and reservation planning (rules before any store is touched).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CODE_ENTROPY_BITS,
  CROCKFORD_ALPHABET,
  crockfordEncode,
  generateUploadCode,
  makeIssueUploadCode,
  normalizeUploadCode,
} from '../../lambdas/core/codes';
import { RuleViolationError, UnauthorizedError } from '../../lambdas/core/errors';
import { parseInstitutionConfig } from '../../lambdas/core/institution';
import type { SessionState, UploadCodeRecord } from '../../lambdas/core/model';
import type { CodeStore, RandomSource } from '../../lambdas/core/ports';
import { authenticate, base64url, effectiveStatus, newSessionToken, sessionTokenHash } from '../../lambdas/core/sessions';
import { MAX_FILES_PER_REQUEST } from '../../lambdas/core/limits';
import { attachmentTypeOf, dicomFileId, planReservation } from '../../lambdas/core/uploads';
import { Sha256SecretHasher } from '../../lambdas/adapters/node-secret-hasher';
import { NodeRandomSource } from '../../lambdas/adapters/node-ids';
import demo from '../../institutions/demo.json';

const hasher = new Sha256SecretHasher();
const fixedBytes = (bytes: number[]): RandomSource => ({ bytes: (n) => new Uint8Array(bytes.slice(0, n)) });

describe('upload codes', () => {
  it('carry at least 60 bits: 16 Crockford characters in 4 groups (80 bits)', () => {
    expect(CODE_ENTROPY_BITS).toBeGreaterThanOrEqual(60);
    const code = generateUploadCode(new NodeRandomSource());
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  });

  it('encode 5 bits per character, most significant first', () => {
    // 0x00 0x44 0x32 0x14 0xC7 = 00000 00001 00010 00011 00100 00101 00110 00111 → "01234567"
    expect(crockfordEncode(new Uint8Array([0x00, 0x44, 0x32, 0x14, 0xc7]), 8)).toBe('01234567');
    expect(crockfordEncode(new Uint8Array(10).fill(0xff), 16)).toBe('ZZZZZZZZZZZZZZZZ');
    expect(generateUploadCode(fixedBytes([0, 0x44, 0x32, 0x14, 0xc7, 0, 0x44, 0x32, 0x14, 0xc7]))).toBe('0123-4567-0123-4567');
    expect(() => crockfordEncode(new Uint8Array(2), 16)).toThrow();
  });

  it('are distinct across many draws (no collisions in 20,000)', () => {
    const random = new NodeRandomSource();
    const codes = new Set(Array.from({ length: 20_000 }, () => generateUploadCode(random)));
    expect(codes.size).toBe(20_000);
    // Every character of the alphabet shows up: the encoding uses all 32 symbols.
    expect(new Set([...codes].join('').replace(/-/g, '')).size).toBe(32);
  });

  it('normalise what people type: case, dashes, spaces, I/L → 1, O → 0', () => {
    expect(normalizeUploadCode('k7qf-2m9x-ht4p-8wra')).toBe('K7QF2M9XHT4P8WRA');
    expect(normalizeUploadCode(' K7QF 2M9X  HT4P 8WRA ')).toBe('K7QF2M9XHT4P8WRA');
    expect(normalizeUploadCode('OOOO-IIII-LLLL-llll')).toBe('0000111111111111');
    expect(normalizeUploadCode('K7QF–2M9X—HT4P‐8WRA')).toBe('K7QF2M9XHT4P8WRA');
    for (const bad of ['', 'K7QF-2M9X-HT4P', 'K7QF-2M9X-HT4P-8WRAX', 'K7QF-2M9X-HT4P-8WRU', 'K7QF-2M9X-HT4P-8WR!', 'x'.repeat(65)]) {
      expect(normalizeUploadCode(bad), bad).toBeNull();
    }
  });

  it('round-trip: every generated code normalises to itself without dashes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 10, maxLength: 10 }), (bytes) => {
        const code = generateUploadCode(fixedBytes([...bytes]));
        const canonical = normalizeUploadCode(code);
        expect(canonical).toBe(code.replace(/-/g, ''));
        expect([...canonical!].every((c) => CROCKFORD_ALPHABET.includes(c))).toBe(true);
        expect(normalizeUploadCode(code.toLowerCase())).toBe(canonical);
      }),
      { numRuns: 300 },
    );
  });

  it('are stored only as a hash, with expiry, limit and reference', async () => {
    const stored: UploadCodeRecord[] = [];
    const codes: CodeStore = { create: async (c) => void stored.push(c), get: async () => undefined, revoke: async () => undefined };
    const institution = parseInstitutionConfig(demo);
    const now = new Date('2026-01-01T00:00:00Z');
    const issue = makeIssueUploadCode({ codes, hasher, random: new NodeRandomSource(), clock: { now: () => now }, institution });
    const issued = await issue({ maxSessionBytes: 1234, reference: 'REQ-1' });
    expect(issued.expiresAt).toBe(new Date(now.getTime() + institution.codes.validDays * 86_400_000).toISOString());
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored[0])).not.toContain(issued.code.replace(/-/g, ''));
    expect(JSON.stringify(stored[0])).not.toContain(issued.code);
    expect(stored[0]).toMatchObject({ maxSessionBytes: 1234, reference: 'REQ-1', revoked: false, institutionId: institution.id });
    expect(stored[0]!.codeHash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('session tokens', () => {
  it('are 256 random bits in base64url (43 characters)', () => {
    const token = newSessionToken(new NodeRandomSource());
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(base64url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });

  it('authenticate by hash; a wrong token or a missing session is the same 401', () => {
    const token = newSessionToken(new NodeRandomSource());
    const session = { tokenHash: sessionTokenHash(hasher, token) } as Parameters<typeof authenticate>[0];
    expect(authenticate(session, token, hasher)).toBe(session);
    expect(() => authenticate(session, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, hasher)).toThrow(UnauthorizedError);
    expect(() => authenticate(undefined, token, hasher)).toThrow(UnauthorizedError);
    expect(hasher.matches('x', 'not-a-hash')).toBe(false);
  });

  it('an OPEN session past its expiry reads as EXPIRED', () => {
    const session = { status: 'OPEN', expiresAt: '2026-01-02T00:00:00.000Z' } as Parameters<typeof effectiveStatus>[0];
    expect(effectiveStatus(session, new Date('2026-01-01T23:59:59.999Z'))).toBe('OPEN');
    expect(effectiveStatus(session, new Date('2026-01-02T00:00:00.000Z'))).toBe('EXPIRED');
  });
});

describe('upload planning', () => {
  it('reads the attachment type from the content type, else from the name', () => {
    expect(attachmentTypeOf({ name: 'a', contentType: 'application/pdf' })).toBe('pdf');
    expect(attachmentTypeOf({ name: 'a.png', contentType: 'image/jpeg' })).toBe('jpeg');
    expect(attachmentTypeOf({ name: 'scan.JPEG' })).toBe('jpeg');
    expect(attachmentTypeOf({ name: 'scan.png', contentType: 'application/octet-stream' })).toBe('png');
    expect(attachmentTypeOf({ name: 'notes.docx' })).toBe('other');
    expect(attachmentTypeOf({ name: 'x.pdf', contentType: 'text/html' })).toBe('other');
  });

  it('stays within one DynamoDB transaction (≤ 100 items) at the largest allowed batch', () => {
    expect(1 + 3 * MAX_FILES_PER_REQUEST).toBeLessThanOrEqual(100);
  });

  const limits = { maxSessionBytes: 1000, maxStudyBytes: 1000, maxDicomFilesAtOnce: 10, maxAttachmentsPerStudy: 10, maxAttachmentBytes: 100, allowedAttachmentTypes: ['pdf' as const] };
  const state = (files: SessionState['files'] = []): SessionState => ({
    session: { sessionId: 'S', limits } as SessionState['session'],
    studies: [],
    files,
  });
  let n = 0;
  const ids = () => `F${++n}`;

  it('links an attachment to the only study, groups increments per study and keys objects by id only', () => {
    const plan = planReservation(
      state(),
      [
        { clientId: 'd1', name: 'Patient Name.dcm', size: 300, kind: 'dicom', studyInstanceUid: '1.2', sopInstanceUid: '1.2.1', sha256: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' },
        { clientId: 'a1', name: 'report.pdf', size: 50, kind: 'attachment', sha256: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' },
      ],
      ids,
      new Date(),
    );
    expect(plan.studies).toEqual([{ studyInstanceUid: '1.2', bytes: 350, dicomFiles: 1, attachments: 1 }]);
    expect(plan.files.map((f) => f.studyInstanceUid)).toEqual(['1.2', '1.2']);
    expect(plan.files.map((f) => f.objectKey)).toEqual([`sessions/S/files/${plan.files[0]!.fileId}`, `sessions/S/files/${plan.files[1]!.fileId}`]);
    expect(plan.files[1]!.attachmentType).toBe('pdf');
    // The declared checksum is kept: every signed write and the manifest use it.
    expect(plan.files.map((f) => f.sha256)).toEqual(['47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=']);
    expect(plan).toMatchObject({ bytes: 350, dicomFiles: 1, attachments: 1 });
  });

  it('answers ATTACHMENT_WITHOUT_DICOM for an attachment naming a study when no DICOM is declared; ATTACHMENT_STUDY_UNKNOWN once one is', () => {
    const alone = [{ clientId: 'a', name: 'report.pdf', size: 10, kind: 'attachment' as const, studyInstanceUid: '9.9', sha256: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' }];
    const codesOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as RuleViolationError).violations.map((v) => v.code);
      }
      return [];
    };
    expect(codesOf(() => planReservation(state(), alone, ids, new Date()))).toEqual(['ATTACHMENT_WITHOUT_DICOM']);
    const stored = { sessionId: 'S', fileId: 'F0', clientId: 'x', name: 'x', kind: 'dicom' as const, size: 9, studyInstanceUid: '1.2', sopInstanceUid: '1.2.9', objectKey: 'k', createdAt: '', status: 'RESERVED' as const };
    expect(codesOf(() => planReservation(state([stored]), alone, ids, new Date()))).toEqual(['ATTACHMENT_STUDY_UNKNOWN']);
    expect(codesOf(() => planReservation(state([{ ...stored, status: 'REMOVED' }]), alone, ids, new Date()))).toEqual(['ATTACHMENT_WITHOUT_DICOM']);
  });

  it('counts stored files but not removed ones', () => {
    const stored = { sessionId: 'S', fileId: 'F0', clientId: 'x', name: 'x', kind: 'dicom' as const, size: 900, studyInstanceUid: '1.2', sopInstanceUid: '1.2.9', objectKey: 'k', createdAt: '' };
    const batch = [{ clientId: 'd', name: 'd', size: 101, kind: 'dicom' as const, studyInstanceUid: '1.3', sopInstanceUid: '1.3.1', sha256: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' }];
    expect(() => planReservation(state([{ ...stored, status: 'RESERVED' }]), batch, ids, new Date())).toThrow(RuleViolationError);
    expect(planReservation(state([{ ...stored, status: 'REMOVED' }]), batch, ids, new Date()).bytes).toBe(101);
  });
});

describe('DICOM file ids', () => {
  const hasher = new Sha256SecretHasher();
  it('are the same for one image in one session, and differ across images and sessions', () => {
    const sop = '1.2.826.0.1.3680043.8.498.12345';
    const id = dicomFileId(hasher, 'a'.repeat(64), sop);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(dicomFileId(hasher, 'a'.repeat(64), sop)).toBe(id);
    expect(dicomFileId(hasher, 'b'.repeat(64), sop)).not.toBe(id);
    expect(dicomFileId(hasher, 'a'.repeat(64), `${sop}1`)).not.toBe(id);
  });

  it('do not depend on the UID alone (keyed by the code hash, which only the table holds)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,10}(\.[0-9]{1,10}){2,6}$/), (sop) => {
        const unkeyed = base64url(Uint8Array.from(hasher.hash(sop).slice(0, 32).match(/../g)!, (p) => parseInt(p, 16)));
        expect(dicomFileId(hasher, 'c'.repeat(64), sop)).not.toBe(unkeyed);
      }),
      { numRuns: 200 },
    );
  });
});
