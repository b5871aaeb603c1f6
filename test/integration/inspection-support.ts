/**
 * Shared by the inspection and completion integration tests: a table and bucket on the emulators,
 * the real use cases and handlers wired to them, the corpus and its oracle, sessions and declared
 * files in the production table layout, and SQS messages shaped exactly as S3 → SQS delivers them.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { keys, type FileItem, type SessionItem } from '../../lambdas/adapters/table';
import { RecordingEventPublisher } from '../../lambdas/adapters/recording-event-publisher';
import { S3ObjectReader } from '../../lambdas/adapters/s3-object-reader';
import type { Clock, ObjectReader } from '../../lambdas/core/ports';
import { limitsFor } from '../../lambdas/core/institution';
import { objectKeyFor, type AttachmentType, type FileKind, type Limits } from '../../lambdas/core/model';
import { buildInspectionUseCases } from '../../lambdas/runtime/inspection-deps';
import { createInspectorHandler } from '../../lambdas/handlers/inspector';
import { createObservability, type MetricName, type Observability } from '../../lambdas/runtime/observability';
import { encodeS3EventKey } from '../../local/s3-events';
import { startApi, UNSENT_SHA256, type ApiHarness } from './helpers/api';
import { testInstitution, type TestBucket, type TestTable } from './helpers/emulators';
import { CORPUS_ROOT, readOracle, type OracleEntry } from '../corpus';

export type { OracleEntry };

// ─── Corpus ─────────────────────────────────────────────────────────────────

const corpusRoot = `${CORPUS_ROOT}/`;

/** The ground truth for every corpus file; a missing corpus fails loudly. */
export function oracle(): OracleEntry[] {
  return readOracle();
}

/** The corpus's CT study of 7 images (Patient ID 98890234, Accession Number 2), which the delivery tests deliver. */
export const CT_STUDY_UID = '1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.1';

/** The CT study's Part 10 files, in the oracle's order. */
export function ctStudyEntries(): OracleEntry[] {
  return oracle().filter((e) => e.kind === 'dicom-part10' && e.attributes.StudyInstanceUID === CT_STUDY_UID);
}

export function oracleOf(file: string): OracleEntry {
  const entry = oracle().find((e) => e.file === file);
  if (!entry) throw new Error(`corpus file ${file} is not in the oracle`);
  return entry;
}

export function corpusBytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(`${corpusRoot}pydicom/${file}`));
}

/** A minimal but real PDF (magic bytes `%PDF-`). */
export function pdfBytes(text = 'report'): Uint8Array {
  return new TextEncoder().encode(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
}

/** A PNG signature and IHDR chunk: enough for the magic-byte check. */
export function pngBytes(): Uint8Array {
  return Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde]);
}

/** A ZIP local file header ("PK\x03\x04") with a stored entry. */
export function zipBytes(): Uint8Array {
  return Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x61, 0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);
}

/** The start of an ELF executable (what a renamed program looks like). */
export function elfBytes(): Uint8Array {
  const bytes = new Uint8Array(512);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  return bytes;
}

// ─── Observability that counts ──────────────────────────────────────────────

export interface CountingObservability extends Observability {
  counts: Map<string, number>;
  total(name: MetricName, reason?: string): number;
}

/** The real logger (silent) plus metric counters the tests can read. */
export function countingObservability(): CountingObservability {
  const base = createObservability({ logLevel: 'SILENT', metrics: false });
  const counts = new Map<string, number>();
  const add = (key: string, value: number) => counts.set(key, (counts.get(key) ?? 0) + value);
  return {
    ...base,
    counts,
    count(name, value = 1) {
      add(name, value);
    },
    countWithReason(name, reason, value = 1) {
      add(`${name}|${reason}`, value);
      add(name, value);
    },
    total(name, reason) {
      return counts.get(reason ? `${name}|${reason}` : name) ?? 0;
    },
  };
}

// ─── Byte-counting reader ───────────────────────────────────────────────────

/** Wraps an ObjectReader and counts every byte it hands out, per key. */
export class CountingReader implements ObjectReader {
  readonly bytesByKey = new Map<string, number>();
  /** Keys whose next read fails once (to provoke a partial batch failure). */
  readonly failOnce = new Set<string>();

  constructor(private readonly inner: ObjectReader) {}

  head(key: string) {
    if (this.failOnce.delete(key)) return Promise.reject(new Error('injected S3 outage'));
    return this.inner.head(key);
  }

  async readStart(key: string, length: number) {
    if (this.failOnce.delete(key)) throw new Error('injected S3 outage');
    const start = await this.inner.readStart(key, length);
    if (start) this.bytesByKey.set(key, (this.bytesByKey.get(key) ?? 0) + start.bytes.length);
    return start;
  }

  async readRange(key: string, start: number, endExclusive: number): Promise<Uint8Array> {
    const bytes = await this.inner.readRange(key, start, endExclusive);
    this.bytesByKey.set(key, (this.bytesByKey.get(key) ?? 0) + bytes.length);
    return bytes;
  }
}

// ─── The rig: emulators + real use cases + real handlers ───────────────────

export interface Rig {
  table: TestTable;
  bucket: TestBucket;
  publisher: RecordingEventPublisher;
  observability: CountingObservability;
  reader: CountingReader;
  useCases: ReturnType<typeof buildInspectionUseCases>;
  inspector: ReturnType<typeof createInspectorHandler>;
  limits: Limits;
  /** The real API on the same table and bucket: sessions and declarations go through it. */
  api?: ApiHarness;
  /** Bearer tokens of the sessions opened through the API. */
  tokens: Map<string, string>;
  drop(): Promise<void>;
}

/** The real API (code → session → upload request) plus the inspection half, on a fresh table and bucket. */
export async function createRig(label: string): Promise<Rig> {
  const api = await startApi(label);
  const rig = rigOn(api.table, api.bucket);
  rig.api = api;
  rig.drop = () => api.close();
  return rig;
}

/** The inspection use cases and handlers on an existing table and bucket (e.g. the API harness's). */
export function rigOn(table: TestTable, bucket: TestBucket, options: { clock?: Clock } = {}): Rig {
  const publisher = new RecordingEventPublisher();
  const observability = countingObservability();
  const reader = new CountingReader(new S3ObjectReader({ s3: bucket.s3, bucketName: bucket.bucketName }));
  const useCases = buildInspectionUseCases({
    doc: table.doc,
    tableName: table.tableName,
    s3: bucket.s3,
    bucketName: bucket.bucketName,
    publisher,
    observability,
    reader,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const inspector = createInspectorHandler({ inspectObject: useCases.inspectObject, observability });
  return {
    table,
    bucket,
    publisher,
    observability,
    reader,
    useCases,
    inspector,
    limits: limitsFor(testInstitution()),
    tokens: new Map(),
    async drop() {
      await Promise.all([table.drop(), bucket.drop()]);
    },
  };
}

// ─── Sessions and declared files, in the production table layout ───────────

export interface SeededSession {
  sessionId: string;
  token: string;
}

/** SHA-256 of `session-token:<token>`, as lambdas/core/sessions.ts stores it. */
export function tokenHashOf(token: string): string {
  return createHash('sha256').update(`session-token:${token}`, 'utf8').digest('hex');
}

/**
 * A session opened through the API (a fresh code, redeemed). States the API cannot produce on
 * demand (other limits, a past expiry, a final status) are written to the table directly.
 */
export async function seedSession(
  rig: Rig,
  opts: { limits?: Limits; expiresAt?: string; status?: SessionItem['status']; codeReference?: string } = {},
): Promise<SeededSession> {
  if (rig.api && !opts.limits && !opts.expiresAt && !opts.status) {
    const code = await rig.api.issueCode(opts.codeReference ? { reference: opts.codeReference } : {});
    const opened = await rig.api.openSession(code);
    rig.tokens.set(opened.sessionId, opened.token);
    return { sessionId: opened.sessionId, token: opened.token };
  }
  const sessionId = randomBytes(12).toString('base64url');
  const token = randomBytes(32).toString('base64url');
  const now = new Date();
  const item: SessionItem = {
    ...keys.session(sessionId),
    sk: 'SESSION',
    sessionId,
    institutionId: 'demo',
    tokenHash: tokenHashOf(token),
    codeHash: randomBytes(32).toString('hex'),
    ...(opts.codeReference ? { codeReference: opts.codeReference } : {}),
    status: opts.status ?? 'OPEN',
    limits: opts.limits ?? rig.limits,
    reservedBytes: 0,
    receivedBytes: 0,
    dicomCount: 0,
    attachmentCount: 0,
    version: 1,
    createdAt: now.toISOString(),
    expiresAt: opts.expiresAt ?? new Date(now.getTime() + 3_600_000).toISOString(),
    ttl: Math.floor(now.getTime() / 1000) + 86_400,
  };
  await rig.table.doc.send(new PutCommand({ TableName: rig.table.tableName, Item: item }));
  return { sessionId, token };
}

export interface Declaration {
  kind: FileKind;
  size: number;
  studyInstanceUid: string;
  sopInstanceUid?: string;
  attachmentType?: AttachmentType;
  name?: string;
}

export interface DeclaredFile extends Declaration {
  fileId: string;
  key: string;
}

const CONTENT_TYPES: Record<AttachmentType, string> = { pdf: 'application/pdf', jpeg: 'image/jpeg', png: 'image/png' };

/**
 * Declares a file through POST /sessions/{id}/uploads. A declaration the API would refuse (a DICOM
 * without SOP Instance UID, an empty file, a session not opened through the API) is written as the
 * upload request would have stored it: a RESERVED file item and its reserved bytes, so completion's
 * defense in depth can be tested against states a buggy or bypassed API could leave.
 */
export async function declareFile(rig: Rig, sessionId: string, declaration: Declaration): Promise<DeclaredFile> {
  const token = rig.tokens.get(sessionId);
  if (rig.api && token && declaration.size >= 1 && (declaration.kind !== 'dicom' || declaration.sopInstanceUid)) {
    const clientId = randomUUID();
    const response = await rig.api.requestUploads(sessionId, token, [
      {
        clientId,
        name: declaration.name ?? (declaration.kind === 'dicom' ? 'IM0001' : `attachment.${declaration.attachmentType ?? 'pdf'}`),
        size: declaration.size,
        kind: declaration.kind,
        ...(declaration.studyInstanceUid ? { studyInstanceUid: declaration.studyInstanceUid } : {}),
        ...(declaration.sopInstanceUid ? { sopInstanceUid: declaration.sopInstanceUid } : {}),
        ...(declaration.kind === 'attachment' ? { contentType: CONTENT_TYPES[declaration.attachmentType ?? 'pdf'] } : {}),
        // These tests write objects with the SDK, past the presigned URL that would enforce it.
        sha256: UNSENT_SHA256,
      },
    ]);
    if (response.status !== 201) throw new Error(`the upload request was refused: ${response.status} ${JSON.stringify(response.body)}`);
    const fileId = (response.body.uploads as { fileId: string }[])[0]!.fileId;
    return { ...declaration, fileId, key: objectKeyFor(sessionId, fileId) };
  }
  const fileId = randomBytes(12).toString('base64url');
  const key = objectKeyFor(sessionId, fileId);
  const item: FileItem = {
    ...keys.file(sessionId, fileId),
    sessionId,
    fileId,
    clientId: randomUUID(),
    name: declaration.name ?? `${declaration.kind}-${fileId}`,
    kind: declaration.kind,
    size: declaration.size,
    studyInstanceUid: declaration.studyInstanceUid,
    ...(declaration.sopInstanceUid ? { sopInstanceUid: declaration.sopInstanceUid } : {}),
    ...(declaration.attachmentType ? { attachmentType: declaration.attachmentType } : {}),
    objectKey: key,
    status: 'RESERVED',
    createdAt: new Date().toISOString(),
    ttl: Math.floor(Date.now() / 1000) + 86_400,
  };
  await rig.table.doc.send(new PutCommand({ TableName: rig.table.tableName, Item: item }));
  await rig.table.doc.send(
    new UpdateCommand({
      TableName: rig.table.tableName,
      Key: keys.session(sessionId),
      UpdateExpression: 'ADD reservedBytes :size',
      ExpressionAttributeValues: { ':size': declaration.size },
    }),
  );
  return { ...declaration, fileId, key };
}

/** Declares a corpus DICOM file with the UIDs its oracle gives. */
export function declareCorpusDicom(rig: Rig, sessionId: string, file: string, overrides: Partial<Declaration> = {}) {
  const entry = oracleOf(file);
  return declareFile(rig, sessionId, {
    kind: 'dicom',
    size: entry.size,
    studyInstanceUid: String(entry.attributes.StudyInstanceUID),
    sopInstanceUid: String(entry.attributes.SOPInstanceUID),
    name: file.split('/').pop(),
    ...overrides,
  });
}

// ─── Objects and S3 → SQS events ────────────────────────────────────────────

export interface StoredObject {
  key: string;
  size: number;
  etag: string;
}

export async function putObject(rig: Rig, key: string, bytes: Uint8Array): Promise<StoredObject> {
  const out = await rig.bucket.s3.send(new PutObjectCommand({ Bucket: rig.bucket.bucketName, Key: key, Body: bytes, ContentLength: bytes.length }));
  return { key, size: bytes.length, etag: (out.ETag ?? '').replace(/"/g, '') };
}

/** One SQS message carrying one S3 ObjectCreated:Put record, as real S3 → SQS sends it. */
export function sqsMessage(bucketName: string, object: StoredObject, eventName = 'ObjectCreated:Put'): SQSRecord {
  const now = Date.now();
  const body = {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date(now).toISOString(),
        eventName,
        userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
        requestParameters: { sourceIPAddress: '192.0.2.10' },
        responseElements: { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': randomBytes(24).toString('base64') },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'UploadsToInspection',
          bucket: { name: bucketName, ownerIdentity: { principalId: 'A3EXAMPLE' }, arn: `arn:aws:s3:::${bucketName}` },
          object: { key: encodeS3EventKey(object.key), size: object.size, eTag: object.etag, sequencer: now.toString(16).toUpperCase() },
        },
      },
    ],
  };
  const text = JSON.stringify(body);
  return {
    messageId: randomUUID(),
    receiptHandle: randomBytes(32).toString('base64'),
    body: text,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(now),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(now),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(text).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:upload-portal-inspection',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** PUTs the bytes and delivers the event; returns the inspector's batch response. */
export async function uploadAndInspect(rig: Rig, key: string, bytes: Uint8Array) {
  const object = await putObject(rig, key, bytes);
  const response = await rig.inspector(sqsEvent([sqsMessage(rig.bucket.bucketName, object)]));
  return { object, response };
}
