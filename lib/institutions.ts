/**
 * Loads institutions/<id>.json through the one shared schema. Every problem names the file and the
 * field, so a hospital editing its config sees exactly what to fix when `cdk synth` stops.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { InstitutionConfigError, parseInstitutionConfig, type InstitutionConfig } from '../lambdas/core/institution';

/** Parses one institution file; its id must match the file name (the stack is named after it). */
export function loadInstitutionFile(file: string, displayName = file): InstitutionConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InstitutionConfigError(displayName, [{ field: '(file)', problem: `is not readable JSON (${(error as Error).message})` }]);
  }
  const config = parseInstitutionConfig(json, displayName);
  const expectedId = path.basename(file, '.json');
  if (config.id !== expectedId) {
    throw new InstitutionConfigError(displayName, [{ field: 'id', problem: `must equal the file name "${expectedId}" (the stack is UploadPortal-<id>)` }]);
  }
  return config;
}

/** Every institutions/*.json in a directory, sorted by file name. */
export function loadInstitutions(dir: string, displayRoot = process.cwd()): InstitutionConfig[] {
  const files = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`${path.relative(displayRoot, dir) || dir}: no institution files (*.json) found`);
  return files.map((name) => {
    const file = path.join(dir, name);
    return loadInstitutionFile(file, path.relative(displayRoot, file));
  });
}
