/** The institution config's `delivery` field, through the one institution schema. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseInstitutionConfig } from '../../lambdas/core/institution';

const demo = JSON.parse(readFileSync('institutions/demo.json', 'utf8'));
const withDelivery = (delivery: unknown) => ({ ...demo, delivery });

describe('delivery config', () => {
  it('demo.json delivers over DICOMweb with the code reference as Patient ID (prefix EXT- without one) and prefixed accession numbers', () => {
    expect(parseInstitutionConfig(demo).delivery).toEqual({
      type: 'dicomweb',
      url: 'http://127.0.0.1:8042/dicom-web',
      patientId: 'reference',
      accessionNumber: 'prefix',
      prefix: 'EXT-',
    });
  });

  it('fills defaults (keep, keep, EXT-) and accepts HealthImaging and authenticated DICOMweb', () => {
    expect(parseInstitutionConfig(withDelivery({ type: 'healthimaging', datastoreId: 'a'.repeat(32) })).delivery).toEqual({
      type: 'healthimaging',
      datastoreId: 'a'.repeat(32),
      maxFilesPerImportJob: 5000,
      patientId: 'keep',
      accessionNumber: 'keep',
      prefix: 'EXT-',
    });
    const auth = { type: 'basic', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pacs-AbCdEf' };
    expect(parseInstitutionConfig(withDelivery({ type: 'dicomweb', url: 'https://pacs.example/dicom-web', auth })).delivery).toMatchObject({ auth });
  });

  it('takes a raised HealthImaging files-per-job quota and refuses one under 1000 (the concurrent-job quota)', () => {
    const healthimaging = (maxFilesPerImportJob: unknown) => withDelivery({ type: 'healthimaging', datastoreId: 'a'.repeat(32), maxFilesPerImportJob });
    expect(parseInstitutionConfig(healthimaging(20_000)).delivery).toMatchObject({ maxFilesPerImportJob: 20_000 });
    expect(() => parseInstitutionConfig(healthimaging(999), 'x.json')).toThrow('delivery.maxFilesPerImportJob: must be at least 1000');
    expect(() => parseInstitutionConfig(healthimaging(2500.5), 'x.json')).toThrow('delivery.maxFilesPerImportJob');
  });

  it('refuses unknown modes, a prefix with a backslash, a non-http URL and unknown fields, naming the field', () => {
    const problem = (delivery: unknown) => {
      try {
        parseInstitutionConfig(withDelivery(delivery), 'x.json');
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(problem({ type: 'dicomweb', url: 'http://p/dw', patientId: 'replace' })).toMatch(/delivery\.patientId/);
    expect(problem({ type: 'dicomweb', url: 'http://p/dw', prefix: 'A\\B' })).toMatch(/delivery\.prefix/);
    expect(problem({ type: 'dicomweb', url: 'ftp://p/dw' })).toMatch(/delivery\.url/);
    expect(problem({ type: 'dicomweb', url: 'http://p/dw', password: 'x' })).toMatch(/password/);
    expect(problem({ type: 'healthimaging', datastoreId: 'short' })).toMatch(/delivery\.datastoreId/);
  });
});
