import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InstitutionConfigError, limitsFor, parseInstitutionConfig } from '../../lambdas/core/institution';
import { MAX_FILES_PER_REQUEST, MAX_SESSION_BYTES } from '../../lambdas/core/limits';

const demo = JSON.parse(readFileSync('institutions/demo.json', 'utf8'));
const variant = (patch: (c: any) => void) => {
  const copy = structuredClone(demo);
  patch(copy);
  return copy;
};
const problemWith = (config: unknown): string => {
  try {
    parseInstitutionConfig(config, 'institutions/x.json');
  } catch (e) {
    expect(e).toBeInstanceOf(InstitutionConfigError);
    return (e as Error).message;
  }
  throw new Error('expected the config to be refused');
};

describe('institution config', () => {
  it('accepts every file in institutions/', () => {
    const files = readdirSync('institutions').filter((f) => f.endsWith('.json'));
    expect(files).toContain('demo.json');
    for (const f of files) expect(() => parseInstitutionConfig(JSON.parse(readFileSync(`institutions/${f}`, 'utf8')), f)).not.toThrow();
  });
  it('fills defaults: 10 DICOM files at once, 10 attachments per study', () => {
    const config = parseInstitutionConfig(variant((c) => {
      delete c.limits.maxDicomFilesAtOnce;
      delete c.limits.maxAttachmentsPerStudy;
      delete c.codes;
      delete c.retention;
    }));
    expect(config.limits.maxDicomFilesAtOnce).toBe(10);
    expect(config.limits.maxAttachmentsPerStudy).toBe(10);
    expect(config.codes.validDays).toBe(14);
    expect(config.retention.acceptedDays).toBe(30);
  });
  it('takes maxSessionBytes from 0 to exactly 10 GB and refuses one byte more, naming the field', () => {
    expect(parseInstitutionConfig(variant((c) => ((c.limits.maxSessionBytes = 0), (c.limits.maxStudyBytes = 0)))).limits.maxSessionBytes).toBe(0);
    expect(parseInstitutionConfig(variant((c) => (c.limits.maxSessionBytes = MAX_SESSION_BYTES))).limits.maxSessionBytes).toBe(10_000_000_000);
    const message = problemWith(variant((c) => (c.limits.maxSessionBytes = MAX_SESSION_BYTES + 1)));
    expect(message).toContain('institutions/x.json');
    expect(message).toContain('limits.maxSessionBytes');
    expect(problemWith(variant((c) => (c.limits.maxSessionBytes = -1)))).toContain('limits.maxSessionBytes');
    expect(problemWith(variant((c) => (c.limits.maxSessionBytes = 1.5)))).toContain('limits.maxSessionBytes');
  });
  it('takes maxDicomFilesAtOnce up to the files one upload request carries, and refuses one more, naming the field', () => {
    expect(parseInstitutionConfig(variant((c) => (c.limits.maxDicomFilesAtOnce = MAX_FILES_PER_REQUEST))).limits.maxDicomFilesAtOnce).toBe(32);
    const message = problemWith(variant((c) => (c.limits.maxDicomFilesAtOnce = MAX_FILES_PER_REQUEST + 1)));
    expect(message).toContain('institutions/x.json: limits.maxDicomFilesAtOnce: must be at most 32');
    expect(problemWith(variant((c) => (c.limits.maxDicomFilesAtOnce = 0)))).toContain('limits.maxDicomFilesAtOnce');
  });
  it('names the field for a missing contact, a malformed origin, an unknown attachment type and unknown keys', () => {
    expect(problemWith(variant((c) => delete c.contact))).toContain('contact');
    expect(problemWith(variant((c) => (c.portalOrigin = 'https://portal.example/path')))).toContain('portalOrigin');
    expect(problemWith(variant((c) => (c.portalOrigin = 'http://portal.example')))).toContain('portalOrigin');
    expect(problemWith(variant((c) => (c.limits.allowedAttachmentTypes = ['exe'])))).toContain('limits.allowedAttachmentTypes');
    expect(problemWith(variant((c) => (c.limits.maxStudyBytes = c.limits.maxSessionBytes + 1)))).toContain('limits.maxStudyBytes');
    expect(problemWith(variant((c) => (c.surprise = true)))).toContain('surprise');
  });
  it('derives a session\'s limits, with a code\'s own size limit', () => {
    const config = parseInstitutionConfig(demo);
    expect(limitsFor(config)).toMatchObject({ maxSessionBytes: 2_000_000_000, maxDicomFilesAtOnce: 10, maxAttachmentsPerStudy: 10 });
    const small = limitsFor(config, 1000);
    expect(small.maxSessionBytes).toBe(1000);
    expect(small.maxStudyBytes).toBe(1000);
  });
});
