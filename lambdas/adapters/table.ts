/**
 * The one DynamoDB table: key layout and item shapes. Every Dynamo adapter, local mode's table
 * creation and the CDK SessionTable construct follow this file.
 *
 * | item        | pk                  | sk                 |
 * |-------------|---------------------|--------------------|
 * | upload code | CODE#<sha256 hex>   | CODE               |
 * | code list   | CODES#<institution> | CODE#<created>#<hash> |
 * | session     | SESSION#<id>        | SESSION            |
 * | study       | SESSION#<id>        | STUDY#<studyUid>   |
 * | file        | SESSION#<id>        | FILE#<fileId>      |
 * | rate window | RATE#<key hash>     | WINDOW#<n>         |
 * | audit       | AUDIT#<institution> | CODE#…, SECURITY#…, REF#… (dynamo-audit-log.ts) |
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { FileRecord, SessionRecord, StudyRecord } from '../core/model';
import type { StudyDeliveryAttributes } from './dynamo-delivery-store';
import type { STUDY_HEADER_FIELDS } from '../core/study-header';

export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
/** Epoch seconds; DynamoDB TTL deletes abandoned items after it. */
export const TTL_ATTRIBUTE = 'ttl';

/** Audit items' partition keys start with this; IAM denies changing or deleting them (lib/session-table.ts). */
export const AUDIT_KEY_PREFIX = 'AUDIT#';

export const keys = {
  code: (codeHash: string) => ({ pk: `CODE#${codeHash}`, sk: 'CODE' }),
  session: (sessionId: string) => ({ pk: `SESSION#${sessionId}`, sk: 'SESSION' }),
  study: (sessionId: string, studyUid: string) => ({ pk: `SESSION#${sessionId}`, sk: `STUDY#${studyUid}` }),
  file: (sessionId: string, fileId: string) => ({ pk: `SESSION#${sessionId}`, sk: `FILE#${fileId}` }),
  rate: (keyHash: string, window: number) => ({ pk: `RATE#${keyHash}`, sk: `WINDOW#${window}` }),
  audit: (institutionId: string, sk: string) => ({ pk: `${AUDIT_KEY_PREFIX}${institutionId}`, sk }),
  codeDirectory: (institutionId: string, createdAt = '', codeHash = '') => ({ pk: `CODES#${institutionId}`, sk: `CODE#${createdAt}${codeHash ? `#${codeHash}` : ''}` }),
};

/** One entry per issued code in its institution's directory partition (listing without a Scan). */
export interface CodeDirectoryItem {
  pk: string;
  sk: string;
  codeHash: string;
  ttl: number;
}

export interface CodeItem {
  pk: string;
  sk: 'CODE';
  institutionId: string;
  createdAt: string;
  expiresAt: string;
  maxSessionBytes?: number;
  reference?: string;
  revoked?: boolean;
  revokedAt?: string;
  /** Set when redeemed; the code then resumes this session while it is OPEN. */
  sessionId?: string;
  ttl: number;
}

/** The session item: the record plus keys and bookkeeping. */
export interface SessionItem extends SessionRecord {
  pk: string;
  sk: 'SESSION';
  /** Keys (file ids, 'complete') whose rejection reasons were added: each is added once. */
  rejectedKeys?: Set<string>;
  /** Who is publishing the final event right now (a claim; stale after a few minutes). */
  eventClaimedAt?: string;
  expiredAt?: string;
  revokedAt?: string;
  /** When the sweep deleted an expired session's objects. */
  objectsDeletedAt?: string;
  /** When the sweep tagged an accepted session's files for retention (retentionDueSince is then removed). */
  retentionAppliedAt?: string;
  ttl: number;
}

/** The study header as the verdicts store it: one attribute per field, the modalities as a string set. */
export type StudyItemHeader = Partial<Record<(typeof STUDY_HEADER_FIELDS)[number], string>>;

export interface StudyItem extends Omit<StudyRecord, 'header'>, StudyDeliveryAttributes, StudyItemHeader {
  pk: string;
  sk: string;
  modalities?: Set<string>;
}

/** The file item: the declaration plus the verdict, with its keys. */
export interface FileItem extends FileRecord {
  pk: string;
  sk: string;
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
