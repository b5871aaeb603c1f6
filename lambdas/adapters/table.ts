/**
 * The one DynamoDB table: key layout and item shapes. Every Dynamo adapter, local mode's table
 * creation and the CDK SessionTable construct follow this file.
 *
 * | item        | pk                  | sk                 |
 * |-------------|---------------------|--------------------|
 * | upload code | CODE#<sha256 hex>   | CODE               |
 * | session     | SESSION#<id>        | SESSION            |
 * | study       | SESSION#<id>        | STUDY#<studyUid>   |
 * | file        | SESSION#<id>        | FILE#<fileId>      |
 * | SOP guard   | SESSION#<id>        | SOP#<sopUid>       |
 * | rate window | RATE#<key hash>     | WINDOW#<n>         |
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { FileKind, FileStatus, HeaderSummary, Limits, RejectionReason, SessionStatus, AttachmentType } from '../core/model';

export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
/** Epoch seconds; DynamoDB TTL deletes abandoned items after it. */
export const TTL_ATTRIBUTE = 'ttl';

export const keys = {
  code: (codeHash: string) => ({ pk: `CODE#${codeHash}`, sk: 'CODE' }),
  session: (sessionId: string) => ({ pk: `SESSION#${sessionId}`, sk: 'SESSION' }),
  study: (sessionId: string, studyUid: string) => ({ pk: `SESSION#${sessionId}`, sk: `STUDY#${studyUid}` }),
  file: (sessionId: string, fileId: string) => ({ pk: `SESSION#${sessionId}`, sk: `FILE#${fileId}` }),
  sop: (sessionId: string, sopUid: string) => ({ pk: `SESSION#${sessionId}`, sk: `SOP#${sopUid}` }),
  rate: (keyHash: string, window: number) => ({ pk: `RATE#${keyHash}`, sk: `WINDOW#${window}` }),
};

export interface CodeItem {
  pk: string;
  sk: 'CODE';
  institutionId: string;
  createdAt: string;
  expiresAt: string;
  maxSessionBytes?: number;
  reference?: string;
  revoked?: boolean;
  /** Set when redeemed; the code then resumes this session while it is OPEN. */
  sessionId?: string;
  ttl: number;
}

export interface SessionItem {
  pk: string;
  sk: 'SESSION';
  sessionId: string;
  institutionId: string;
  tokenHash: string;
  codeHash: string;
  codeReference?: string;
  status: SessionStatus;
  limits: Limits;
  /** Bytes of every declared, not removed file. Never exceeds limits.maxSessionBytes. */
  reservedBytes: number;
  /** Bytes of objects that arrived and were recorded by the inspector (each once). */
  receivedBytes: number;
  dicomCount: number;
  attachmentCount: number;
  version: number;
  createdAt: string;
  expiresAt: string;
  completedAt?: string;
  rejection?: RejectionReason[];
  contact?: { email?: string; phone?: string };
  // Set by inspection and completion (lambdas/adapters/dynamo-verdict-store.ts):
  /** When the completion lock (status COMPLETING) was taken; a stale lock may be taken over. */
  completingSince?: string;
  manifestKey?: string;
  acceptedBytes?: number;
  rejectedAt?: string;
  /** Keys (file ids, 'complete') whose rejection reasons were added: each is added once. */
  rejectedKeys?: Set<string>;
  /** When UploadSessionAccepted/Rejected was published (absent: publish it on the next chance). */
  eventPublishedAt?: string;
  /** Who is publishing that event right now (a claim; stale after a few minutes). */
  eventClaimedAt?: string;
  expiredAt?: string;
  /** When the sweep deleted an expired session's objects. */
  objectsDeletedAt?: string;
  ttl: number;
}

export interface StudyItem {
  pk: string;
  sk: string;
  studyInstanceUid: string;
  bytes: number;
  dicomCount: number;
  attachmentCount: number;
  comment?: string;
}

export interface FileItem {
  pk: string;
  sk: string;
  sessionId: string;
  fileId: string;
  clientId: string;
  /** The uploader's file name: PHI-adjacent, never logged, never in a key. */
  name: string;
  kind: FileKind;
  size: number;
  studyInstanceUid: string;
  sopInstanceUid?: string;
  contentType?: string;
  attachmentType?: AttachmentType;
  objectKey: string;
  status: FileStatus;
  reason?: RejectionReason;
  header?: HeaderSummary;
  /** For attachments: the type its magic bytes showed. */
  detectedType?: string;
  inspectionBytesRead?: number;
  /** The ETag of the object the verdict is about; another ETag later means the object was replaced. */
  etag?: string;
  createdAt: string;
  receivedAt?: string;
  inspectedAt?: string;
  ttl: number;
}

/** The table as local mode and the integration tests create it (CDK mirrors it in SessionTable). */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: SORT_KEY, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
  };
}
