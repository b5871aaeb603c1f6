/**
 * Multipart uploads as s3rver keeps them on disk (`<bucket>/._S3rver_uploads/<uploadId>/`: a `key`
 * file, and per part its bytes and `<n>.md5`). s3rver answers ListParts and AbortMultipartUpload
 * with 405 and completes without checking the parts; the gate does those here. Each part's
 * verified SHA-256 is kept beside it (`<n>.sha256`), as S3 keeps a part's checksum.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The part of s3rver's FilesystemStore the gate uses. */
export interface S3rverStore {
  existsObject(bucket: string, key: string): Promise<boolean>;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  /** The bucket's CORS configuration (s3rver's model), or null. */
  getSubresource(bucket: string, key: undefined, type: 'cors'): Promise<{ matchRule(origin: string, method: string): unknown } | null>;
}

export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
  lastModified: Date;
  sha256?: string;
}

/** S3's smallest part, except for the last one. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export class MultipartUploads {
  constructor(private readonly store: S3rverStore) {}

  private folder(bucket: string, uploadId: string): string | undefined {
    // s3rver names the folder after the id it issued (hex); anything else is no upload of ours.
    if (!/^[0-9a-f]{16,64}$/.test(uploadId)) return undefined;
    return join(this.store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  }

  /** True when `uploadId` is an upload in progress for this very key. */
  async isOpen(bucket: string, key: string, uploadId: string): Promise<boolean> {
    const folder = this.folder(bucket, uploadId);
    if (!folder || !existsSync(join(folder, 'key'))) return false;
    return (await readFile(join(folder, 'key'), 'utf8')) === key;
  }

  async recordPartChecksum(bucket: string, uploadId: string, partNumber: number, sha256: string): Promise<void> {
    const folder = this.folder(bucket, uploadId);
    if (folder) await writeFile(join(folder, `${partNumber}.sha256`), sha256);
  }

  /** The parts held, in part-number order. */
  async list(bucket: string, uploadId: string): Promise<StoredPart[]> {
    const folder = this.folder(bucket, uploadId)!;
    const numbers = (await readdir(folder)).filter((n) => /^\d+$/.test(n)).map(Number);
    const parts = await Promise.all(
      numbers.map(async (partNumber): Promise<StoredPart | undefined> => {
        const path = join(folder, String(partNumber));
        const [info, md5, sha256] = await Promise.all([
          stat(path),
          readFile(`${path}.md5`, 'utf8').catch(() => undefined),
          readFile(`${path}.sha256`, 'utf8').catch(() => undefined),
        ]);
        // A part without its md5 is still being written (s3rver writes the md5 last).
        if (md5 === undefined) return undefined;
        return { partNumber, size: info.size, etag: `"${md5}"`, lastModified: info.mtime, ...(sha256 ? { sha256 } : {}) };
      }),
    );
    return parts.filter((p): p is StoredPart => p !== undefined).sort((a, b) => a.partNumber - b.partNumber);
  }

  async abort(bucket: string, uploadId: string): Promise<void> {
    await rm(this.folder(bucket, uploadId)!, { recursive: true, force: true });
  }
}

export interface CompletionPart {
  partNumber: number;
  etag: string;
  sha256?: string;
}

/** The parts a CompleteMultipartUpload body names; undefined when it is not that XML. */
export function parseCompletion(xml: string): CompletionPart[] | undefined {
  if (!/<CompleteMultipartUpload[\s>]/.test(xml)) return undefined;
  const parts: CompletionPart[] = [];
  for (const [, body] of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body!)?.[1]?.trim();
    const partNumber = Number(field('PartNumber'));
    const etag = field('ETag')?.replace(/&quot;|"/g, '');
    if (!Number.isInteger(partNumber) || !etag) return undefined;
    const sha256 = field('ChecksumSHA256');
    parts.push({ partNumber, etag, ...(sha256 ? { sha256 } : {}) });
  }
  return parts.length ? parts : undefined;
}

/** Why S3 would refuse to complete with these parts, or undefined when it would not. */
export function completionProblem(named: CompletionPart[], held: StoredPart[]): { code: string; message: string } | undefined {
  const byNumber = new Map(held.map((p) => [p.partNumber, p]));
  for (let i = 0; i < named.length; i++) {
    const part = named[i]!;
    if (i > 0 && part.partNumber <= named[i - 1]!.partNumber) return { code: 'InvalidPartOrder', message: 'The list of parts was not in ascending order.' };
    const stored = byNumber.get(part.partNumber);
    if (!stored || stored.etag.replace(/"/g, '') !== part.etag) {
      return { code: 'InvalidPart', message: 'One or more of the specified parts could not be found or did not match its entity tag.' };
    }
    if (stored.sha256 && stored.sha256 !== part.sha256) return { code: 'InvalidPart', message: 'A part was uploaded with a SHA-256 checksum; the completion must name it.' };
    if (i < named.length - 1 && stored.size < MIN_PART_BYTES) return { code: 'EntityTooSmall', message: 'Your proposed upload is smaller than the minimum allowed object size.' };
  }
  return undefined;
}

export function listPartsXml(bucket: string, key: string, uploadId: string, parts: StoredPart[], marker: number, maxParts: number): string {
  const after = parts.filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const items = page
    .map(
      (p) =>
        `<Part><PartNumber>${p.partNumber}</PartNumber><LastModified>${p.lastModified.toISOString()}</LastModified><ETag>${escape(p.etag)}</ETag><Size>${p.size}</Size>${p.sha256 ? `<ChecksumSHA256>${p.sha256}</ChecksumSHA256>` : ''}</Part>`,
    )
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Bucket>${escape(bucket)}</Bucket><Key>${escape(key)}</Key><UploadId>${uploadId}</UploadId>` +
    `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1)?.partNumber ?? marker}</NextPartNumberMarker>` +
    `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>${items}</ListPartsResult>`
  );
}
