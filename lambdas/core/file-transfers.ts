/**
 * The transfer of a declared file: its grant (one presigned PUT, or a multipart upload), a fresh
 * URL when one expired, part URLs, the parts S3 holds (to resume), and the multipart completion.
 * Every route here works only on a file of the caller's OPEN session that has not arrived.
 */
import { BadRequestError, ConflictError, NotFoundError } from './errors';
import type { FileRecord, Limits } from './model';
import type { Clock, SecretHasher, SessionStore, UploadSigner } from './ports';
import type { MultipartRecorder, MultipartUploads, StoredPart } from './ports/multipart-uploads';
import { authenticate, requireOpen } from './sessions';
import { multipartThreshold, partProblem, partSizeOf, planParts, uploadContentType, type PartPlan } from './transfers';

/** What the client is told to do with one declared file. */
export type UploadGrant =
  | { fileId: string; method: 'PUT'; url: string; headers: Record<string, string>; expiresAt: string }
  | { fileId: string; method: 'MULTIPART'; uploadId: string; partSize: number; partCount: number; contentType: string };

export interface TransferDeps {
  signer: UploadSigner;
  multipart: MultipartUploads;
  recorder: MultipartRecorder;
  clock: Clock;
  expiresInSeconds: number;
}

/** A file that needs the declared checksum to be signed. Files declared before checksums existed cannot get a new grant. */
function checksumOf(file: FileRecord): string {
  if (!file.sha256) throw new ConflictError('FILE_WITHOUT_CHECKSUM');
  return file.sha256;
}

/**
 * The grant for a RESERVED file: a presigned PUT below the session's multipart threshold, else a
 * multipart upload, started once and recorded on the file (an existing one is answered again).
 */
export async function grantTransfer(deps: TransferDeps, file: FileRecord, limits: Limits): Promise<UploadGrant> {
  const contentType = uploadContentType(file);
  const sha256 = checksumOf(file);
  if (file.size < multipartThreshold(limits)) {
    const expiresAt = new Date(deps.clock.now().getTime() + deps.expiresInSeconds * 1000).toISOString();
    const signed = await deps.signer.signPut({ key: file.objectKey, contentLength: file.size, contentType, sha256, expiresInSeconds: deps.expiresInSeconds });
    return { fileId: file.fileId, method: 'PUT', url: signed.url, headers: signed.headers, expiresAt };
  }
  if (file.multipart) return { fileId: file.fileId, method: 'MULTIPART', ...file.multipart, contentType };
  const plan = planParts(file.size);
  const uploadId = await deps.multipart.create({ key: file.objectKey, contentType });
  if (!(await deps.recorder.recordUpload(file.sessionId, file.fileId, { uploadId, ...plan }))) {
    // Removed (or started by a concurrent request) meanwhile: this upload is nobody's.
    await deps.multipart.abort({ key: file.objectKey, uploadId });
    throw new ConflictError('FILE_NOT_PENDING');
  }
  return { fileId: file.fileId, method: 'MULTIPART', uploadId, ...plan, contentType };
}

/** The caller's file, in an OPEN session, that has not arrived: the only kind a transfer route works on. */
async function pendingFile(deps: { sessions: SessionStore; hasher: SecretHasher; clock: Clock }, input: { sessionId: string; token: string; fileId: string }) {
  const session = authenticate(await deps.sessions.get(input.sessionId), input.token, deps.hasher);
  requireOpen(session, deps.clock.now());
  const file = await deps.sessions.getFile(input.sessionId, input.fileId);
  if (!file || file.status === 'REMOVED') throw new NotFoundError();
  if (file.status !== 'RESERVED') throw new ConflictError('FILE_ALREADY_RECEIVED');
  return { session, file };
}

function multipartOf(file: FileRecord): PartPlan & { uploadId: string } {
  if (!file.multipart) throw new ConflictError('NOT_MULTIPART');
  return file.multipart;
}

type FileInput = { sessionId: string; token: string; fileId: string };
type AccessDeps = { sessions: SessionStore; hasher: SecretHasher; clock: Clock };

export type RenewUploadUrl = (input: FileInput) => Promise<UploadGrant>;

/** POST …/upload-url: a fresh grant (a new presigned PUT, or the file's multipart upload) for a file that has not arrived. */
export function makeRenewUploadUrl(deps: AccessDeps & TransferDeps): RenewUploadUrl {
  return async (input) => {
    const { session, file } = await pendingFile(deps, input);
    return grantTransfer(deps, file, session.limits);
  };
}

export interface PartRequest {
  partNumber: number;
  size: number;
  sha256: string;
}

export type SignParts = (input: FileInput & { parts: PartRequest[] }) => Promise<{ parts: { partNumber: number; url: string; headers: Record<string, string>; expiresAt: string }[] }>;

/** POST …/parts: a presigned UploadPart per requested part, each pinned to the plan's size and the declared checksum. */
export function makeSignParts(deps: AccessDeps & TransferDeps): SignParts {
  return async (input) => {
    const { file } = await pendingFile(deps, input);
    const transfer = multipartOf(file);
    const problems = input.parts.map((p) => partProblem(transfer, file.size, p)).filter((p): p is string => p !== undefined);
    if (problems.length) throw new BadRequestError(problems[0], { issues: problems.slice(0, 10).map((problem) => ({ path: 'parts', problem })) });
    const expiresAt = new Date(deps.clock.now().getTime() + deps.expiresInSeconds * 1000).toISOString();
    const parts = await Promise.all(
      input.parts.map(async (p) => {
        const signed = await deps.multipart.signPart({
          key: file.objectKey,
          uploadId: transfer.uploadId,
          partNumber: p.partNumber,
          contentLength: p.size,
          sha256: p.sha256,
          expiresInSeconds: deps.expiresInSeconds,
        });
        return { partNumber: p.partNumber, url: signed.url, headers: signed.headers, expiresAt };
      }),
    );
    return { parts };
  };
}

export type ListParts = (input: FileInput) => Promise<{ parts: { partNumber: number; size: number; etag: string }[] }>;

/** GET …/parts: the parts S3 holds, so a client resumes from there. */
export function makeListParts(deps: AccessDeps & { multipart: MultipartUploads }): ListParts {
  return async (input) => {
    const { file } = await pendingFile(deps, input);
    const transfer = multipartOf(file);
    const held = await deps.multipart.listParts({ key: file.objectKey, uploadId: transfer.uploadId });
    if (!held) throw new ConflictError('UPLOAD_GONE');
    return { parts: held.map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag })) };
  };
}

export type FinishUpload = (input: FileInput & { parts: { partNumber: number; etag: string }[] }) => Promise<{ fileId: string; status: 'UPLOADED' }>;

/** Why the named parts are not the whole file as S3 holds it, or undefined when they are. */
function partsMismatch(transfer: PartPlan, size: number, named: { partNumber: number; etag: string }[], held: StoredPart[]): string | undefined {
  if (named.length !== transfer.partCount) return `all ${transfer.partCount} parts must be named`;
  const byNumber = new Map(held.map((p) => [p.partNumber, p]));
  for (const [i, part] of named.entries()) {
    if (part.partNumber !== i + 1) return 'parts must be named in order, from 1';
    const stored = byNumber.get(part.partNumber);
    if (!stored) return `part ${part.partNumber} has not arrived`;
    if (stored.etag.replace(/"/g, '') !== part.etag.replace(/"/g, '')) return `part ${part.partNumber} is not the one S3 holds`;
    if (stored.size !== partSizeOf(transfer, size, part.partNumber)) return `part ${part.partNumber} has the wrong size`;
  }
  return undefined;
}

/** POST …/finish: completes the multipart upload with exactly the planned parts, never over an existing object. */
export function makeFinishUpload(deps: AccessDeps & { multipart: MultipartUploads }): FinishUpload {
  return async (input) => {
    const { file } = await pendingFile(deps, input);
    const transfer = multipartOf(file);
    const held = await deps.multipart.listParts({ key: file.objectKey, uploadId: transfer.uploadId });
    if (!held) throw new ConflictError('UPLOAD_GONE');
    const mismatch = partsMismatch(transfer, file.size, input.parts, held);
    if (mismatch) throw new ConflictError('PARTS_MISMATCH', undefined, { problem: mismatch });
    const byNumber = new Map(held.map((p) => [p.partNumber, p]));
    const outcome = await deps.multipart.complete({ key: file.objectKey, uploadId: transfer.uploadId, parts: input.parts.map((p) => byNumber.get(p.partNumber)!) });
    if (outcome === 'object-exists') throw new ConflictError('FILE_ALREADY_RECEIVED');
    if (outcome === 'no-such-upload') throw new ConflictError('UPLOAD_GONE');
    if (outcome === 'parts-mismatch') throw new ConflictError('PARTS_MISMATCH');
    return { fileId: file.fileId, status: 'UPLOADED' };
  };
}
