/**
 * VerdictStore on the one DynamoDB table (layout in ./table.ts). Every state change is a
 * conditional write, so a repeated or concurrent call changes nothing twice.
 */
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type {
  AcceptedState,
  FileRecord,
  SessionRecord,
  StudyRecord,
  Verdict,
  VerdictStore,
} from '../core/inspection-ports';
import type { RejectionReason } from '../core/model';
import { keys, type FileItem, type SessionItem, type StudyItem } from './table';

export interface DynamoVerdictStoreOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
}

/** How long a verdict waits for others of the same session to share its transaction. */
const VERDICT_WINDOW_MS = 10;
/** A transaction holds at most 100 items: the session item and up to 99 file items. */
const MAX_VERDICTS_PER_TRANSACTION = 99;

interface PendingVerdict {
  fileId: string;
  verdict: Verdict;
  resolve: (result: 'recorded' | 'already') => void;
  reject: (error: unknown) => void;
}

interface PendingRead {
  key: { pk: string; sk: string };
  waiters: { resolve: (item: Record<string, unknown> | undefined) => void; reject: (error: unknown) => void }[];
}

export class DynamoVerdictStore implements VerdictStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoVerdictStoreOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
  }

  async getSession(sessionId: string): Promise<SessionRecord | null> {
    const item = await this.readItem(keys.session(sessionId));
    return item ? sessionRecordOf(item as unknown as SessionItem) : null;
  }

  async getFile(sessionId: string, fileId: string): Promise<FileRecord | null> {
    const item = await this.readItem(keys.file(sessionId, fileId));
    return item ? fileRecordOf(item as unknown as FileItem) : null;
  }

  /** Reads asked for in the same turn of the event loop, keyed by pk and sk, not yet sent. */
  private pendingReads: Map<string, PendingRead> | undefined;

  /**
   * A strongly consistent read of one item. The reads asked for in the same turn of the event loop
   * go out together as one BatchGetItem: an SQS batch inspects its files in parallel, and each wants
   * its file and the (same) session item, so ten files cost one call instead of twenty. Every read
   * is still sent after it was asked for, so it sees every write that finished before.
   */
  private readItem(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve, reject) => {
      if (!this.pendingReads) {
        this.pendingReads = new Map();
        setImmediate(() => void this.flushReads());
      }
      const id = `${key.pk}\u0000${key.sk}`;
      let entry = this.pendingReads.get(id);
      if (!entry) this.pendingReads.set(id, (entry = { key, waiters: [] }));
      entry.waiters.push({ resolve, reject });
    });
  }

  private async flushReads(): Promise<void> {
    const entries = [...(this.pendingReads?.values() ?? [])];
    this.pendingReads = undefined;
    // BatchGetItem takes at most 100 keys.
    for (let i = 0; i < entries.length; i += 100) {
      const chunk = entries.slice(i, i + 100);
      try {
        const found = await this.fetchItems(chunk.map((e) => e.key));
        for (const e of chunk) {
          const item = found.get(`${e.key.pk}\u0000${e.key.sk}`);
          for (const w of e.waiters) w.resolve(item);
        }
      } catch (error) {
        for (const e of chunk) for (const w of e.waiters) w.reject(error);
      }
    }
  }

  private async fetchItems(itemKeys: { pk: string; sk: string }[]): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    if (itemKeys.length === 1) {
      const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: itemKeys[0], ConsistentRead: true }));
      if (out.Item) found.set(`${itemKeys[0]!.pk}\u0000${itemKeys[0]!.sk}`, out.Item);
      return found;
    }
    let request: Record<string, unknown>[] = itemKeys;
    for (let attempt = 1; request.length > 0; attempt++) {
      const out = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: request, ConsistentRead: true } } }));
      for (const item of out.Responses?.[this.table] ?? []) found.set(`${String(item.pk)}\u0000${String(item.sk)}`, item);
      request = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      if (request.length === 0) break;
      // Keys left unprocessed under throttling: back off and ask again, as the SDK docs advise.
      if (attempt >= 8) throw new Error('BatchGetItem left keys unprocessed after 8 attempts');
      await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
    }
    return found;
  }

  async listFiles(sessionId: string): Promise<FileRecord[]> {
    return (await this.queryPrefix<FileItem>(sessionId, 'FILE#')).map(fileRecordOf);
  }

  async listStudies(sessionId: string): Promise<StudyRecord[]> {
    return (await this.queryPrefix<StudyItem>(sessionId, 'STUDY#')).map((s) => ({
      studyInstanceUid: s.studyInstanceUid ?? s.sk.slice('STUDY#'.length),
      ...(s.comment ? { comment: s.comment } : {}),
    }));
  }

  /** Verdicts waiting for the next write, by session. */
  private pendingVerdicts: Map<string, PendingVerdict[]> | undefined;

  /**
   * Records a verdict once: the file item (only while it waits for one) and the session's
   * receivedBytes in one transaction. The verdicts of one session that arrive within a few
   * milliseconds (the files of an SQS batch, inspected in parallel) share one transaction: each
   * file keeps its own condition, the session gets the sum of their sizes. A file whose condition
   * fails is 'already' and the others are written again without it, so the result for every file
   * is what a transaction of its own would have given.
   */
  recordVerdict(sessionId: string, fileId: string, verdict: Verdict): Promise<'recorded' | 'already'> {
    return new Promise((resolve, reject) => {
      if (!this.pendingVerdicts) {
        this.pendingVerdicts = new Map();
        setTimeout(() => void this.flushVerdicts(), VERDICT_WINDOW_MS);
      }
      const group = this.pendingVerdicts.get(sessionId) ?? [];
      group.push({ fileId, verdict, resolve, reject });
      this.pendingVerdicts.set(sessionId, group);
    });
  }

  private async flushVerdicts(): Promise<void> {
    const groups = this.pendingVerdicts ?? new Map<string, PendingVerdict[]>();
    this.pendingVerdicts = undefined;
    await Promise.all(
      [...groups].map(async ([sessionId, verdicts]) => {
        // One item at most once per transaction: a repeated event for the same file waits for the next.
        let rest = verdicts;
        while (rest.length > 0) {
          const seen = new Set<string>();
          const now: PendingVerdict[] = [];
          const later: PendingVerdict[] = [];
          for (const v of rest) {
            if (!seen.has(v.fileId) && now.length < MAX_VERDICTS_PER_TRANSACTION) {
              seen.add(v.fileId);
              now.push(v);
            } else later.push(v);
          }
          await this.writeVerdicts(sessionId, now);
          rest = later;
        }
      }),
    );
  }

  private async writeVerdicts(sessionId: string, verdicts: PendingVerdict[]): Promise<void> {
    let rest = verdicts;
    while (rest.length > 0) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              ...rest.map((v) => ({ Update: this.verdictUpdate(sessionId, v.fileId, v.verdict) })),
              {
                Update: {
                  TableName: this.table,
                  Key: keys.session(sessionId),
                  UpdateExpression: 'ADD receivedBytes :size',
                  ConditionExpression: 'attribute_exists(pk)',
                  ExpressionAttributeValues: { ':size': rest.reduce((sum, v) => sum + v.verdict.size, 0) },
                },
              },
            ],
          }),
        );
        for (const v of rest) v.resolve('recorded');
        return;
      } catch (error) {
        if (!isConditionFailure(error)) {
          for (const v of rest) v.reject(error);
          return;
        }
        const codes = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        const sessionGone = codes[rest.length]?.Code === 'ConditionalCheckFailed';
        const next: PendingVerdict[] = [];
        rest.forEach((v, i) => (sessionGone || codes[i]?.Code === 'ConditionalCheckFailed' ? v.resolve('already') : next.push(v)));
        rest = next;
      }
    }
  }

  private verdictUpdate(sessionId: string, fileId: string, verdict: Verdict) {
    const set = ['#status = :status', 'inspectedAt = :at', 'inspectionBytesRead = :read', 'receivedAt = if_not_exists(receivedAt, :at)'];
    const values: Record<string, unknown> = {
      ':status': verdict.status,
      ':at': verdict.inspectedAt,
      ':read': verdict.inspectionBytesRead,
      ':reserved': 'RESERVED',
      ':received': 'RECEIVED',
    };
    const optional = { reason: verdict.reason, header: verdict.header, detectedType: verdict.detectedType, etag: verdict.etag };
    for (const [name, value] of Object.entries(optional)) {
      if (value === undefined) continue;
      set.push(`${name} = :${name}`);
      values[`:${name}`] = value;
    }
    return {
      TableName: this.table,
      Key: keys.file(sessionId, fileId),
      UpdateExpression: `SET ${set.join(', ')}`,
      // Only a file still waiting for its verdict: never twice, never a REMOVED one.
      ConditionExpression: '#status IN (:reserved, :received)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: values,
    };
  }

  async rejectSession(
    sessionId: string,
    reasons: RejectionReason[],
    reasonKey: string,
    at: string,
  ): Promise<{ transitioned: boolean; session: SessionRecord | null }> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.session(sessionId),
          UpdateExpression:
            'SET #status = :rejected, rejection = list_append(if_not_exists(rejection, :none), :reasons), rejectedAt = if_not_exists(rejectedAt, :at) REMOVE completingSince ADD rejectedKeys :key, version :one',
          ConditionExpression:
            '#status IN (:open, :completing, :rejected) AND (attribute_not_exists(rejectedKeys) OR NOT contains(rejectedKeys, :keyText))',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':rejected': 'REJECTED',
            ':open': 'OPEN',
            ':completing': 'COMPLETING',
            ':none': [],
            ':reasons': reasons,
            ':at': at,
            ':key': new Set([reasonKey]),
            ':keyText': reasonKey,
            ':one': 1,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const transitioned = (out.Attributes as SessionItem | undefined)?.status !== 'REJECTED';
      return { transitioned, session: await this.getSession(sessionId) };
    } catch (error) {
      if (isConditionFailure(error)) return { transitioned: false, session: await this.getSession(sessionId) };
      throw error;
    }
  }

  async lockForCompletion(sessionId: string, at: string, staleBefore: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: keys.session(sessionId),
      UpdateExpression: 'SET #status = :completing, completingSince = :at ADD version :one',
      ConditionExpression: '#status = :open OR (#status = :completing AND completingSince < :stale)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':completing': 'COMPLETING', ':open': 'OPEN', ':at': at, ':stale': staleBefore, ':one': 1 },
    });
  }

  async releaseCompletionLock(sessionId: string): Promise<void> {
    await this.conditionalUpdate({
      Key: keys.session(sessionId),
      UpdateExpression: 'SET #status = :open REMOVE completingSince ADD version :one',
      ConditionExpression: '#status = :completing',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':completing': 'COMPLETING', ':open': 'OPEN', ':one': 1 },
    });
  }

  async markAccepted(sessionId: string, state: AcceptedState): Promise<boolean> {
    const values: Record<string, unknown> = {
      ':accepted': 'ACCEPTED',
      ':completing': 'COMPLETING',
      ':at': state.completedAt,
      ':manifest': state.manifestKey,
      ':bytes': state.acceptedBytes,
      ':contact': state.contact ?? {},
      ':one': 1,
    };
    const comments = Object.entries(state.comments);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: keys.session(sessionId),
                UpdateExpression:
                  'SET #status = :accepted, completedAt = :at, retentionDueSince = :at, manifestKey = :manifest, acceptedBytes = :bytes, contact = :contact REMOVE completingSince ADD version :one',
                ConditionExpression: '#status = :completing',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: values,
              },
            },
            // The per-study comments live on the study items (the API engineer's counters stay untouched).
            ...comments.map(([studyUid, comment]) => ({
              Update: {
                TableName: this.table,
                Key: keys.study(sessionId, studyUid),
                UpdateExpression: 'SET #comment = :comment, studyInstanceUid = if_not_exists(studyInstanceUid, :uid)',
                ExpressionAttributeNames: { '#comment': 'comment' },
                ExpressionAttributeValues: { ':comment': comment, ':uid': studyUid },
              },
            })),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async claimEventPublication(sessionId: string, at: string, staleBefore: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: keys.session(sessionId),
      UpdateExpression: 'SET eventClaimedAt = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(eventPublishedAt) AND (attribute_not_exists(eventClaimedAt) OR eventClaimedAt < :stale)',
      ExpressionAttributeValues: { ':at': at, ':stale': staleBefore },
    });
  }

  async releaseEventClaim(sessionId: string): Promise<void> {
    await this.conditionalUpdate({
      Key: keys.session(sessionId),
      UpdateExpression: 'REMOVE eventClaimedAt',
      ConditionExpression: 'attribute_exists(pk)',
    });
  }

  async markEventPublished(sessionId: string, at: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.session(sessionId),
        UpdateExpression: 'SET eventPublishedAt = if_not_exists(eventPublishedAt, :at)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  /**
   * A Scan with a filter: sessions are few (one per upload code) and TTL removes old ones, so a
   * scheduled Scan costs little at this scale. A sparse GSI on OPEN sessions would replace it if
   * the table ever grows large.
   */
  async findSessionsToSweep(now: string): Promise<SessionRecord[]> {
    const found: SessionRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression:
            'sk = :session AND ((#status = :open AND expiresAt < :now) OR (#status = :expired AND attribute_not_exists(objectsDeletedAt)) OR (#status = :accepted AND attribute_exists(retentionDueSince)))',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':session': 'SESSION', ':open': 'OPEN', ':expired': 'EXPIRED', ':accepted': 'ACCEPTED', ':now': now },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) found.push(sessionRecordOf(item as SessionItem));
      start = out.LastEvaluatedKey;
    } while (start);
    return found;
  }

  async markRetentionApplied(sessionId: string, at: string): Promise<void> {
    await this.stampSession(sessionId, 'SET retentionAppliedAt = :at REMOVE retentionDueSince', at);
  }

  async markExpired(sessionId: string, now: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: keys.session(sessionId),
      UpdateExpression: 'SET #status = :expired, expiredAt = :now ADD version :one',
      ConditionExpression: '#status = :open AND expiresAt < :now',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':expired': 'EXPIRED', ':open': 'OPEN', ':now': now, ':one': 1 },
    });
  }

  async markObjectsDeleted(sessionId: string, at: string): Promise<void> {
    await this.stampSession(sessionId, 'SET objectsDeletedAt = :at', at);
  }

  /** Records when the sweep finished a step on a session (`:at` in the expression); never creates the item. */
  private async stampSession(sessionId: string, updateExpression: string, at: string): Promise<void> {
    await this.conditionalUpdate({
      Key: keys.session(sessionId),
      UpdateExpression: updateExpression,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':at': at },
    });
  }

  private async conditionalUpdate(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({ TableName: this.table, ...input }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async queryPrefix<T>(sessionId: string, prefix: string): Promise<T[]> {
    const items: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': keys.session(sessionId).pk, ':prefix': prefix },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((out.Items ?? []) as T[]));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function isConditionFailure(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  if (name === 'ConditionalCheckFailedException') return true;
  if (name === 'TransactionCanceledException') {
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    // Cancelled only by conditions (the others say "None"); a conflict or throttle is worth a retry.
    return reasons.some((r) => r.Code === 'ConditionalCheckFailed') && reasons.every((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'None');
  }
  return false;
}

function sessionRecordOf(item: SessionItem): SessionRecord {
  return {
    sessionId: item.sessionId,
    institutionId: item.institutionId,
    status: item.status,
    limits: item.limits,
    reservedBytes: Number(item.reservedBytes ?? 0),
    receivedBytes: Number(item.receivedBytes ?? 0),
    codeReference: item.codeReference,
    createdAt: item.createdAt,
    expiresAt: item.expiresAt,
    completedAt: item.completedAt,
    completingSince: item.completingSince,
    rejection: item.rejection,
    contact: item.contact,
    manifestKey: item.manifestKey,
    acceptedBytes: item.acceptedBytes,
    eventPublishedAt: item.eventPublishedAt,
    retentionDueSince: item.retentionDueSince,
  };
}

function fileRecordOf(item: FileItem): FileRecord {
  return {
    sessionId: item.sessionId,
    fileId: item.fileId,
    name: item.name,
    kind: item.kind,
    size: Number(item.size),
    studyInstanceUid: item.studyInstanceUid,
    sopInstanceUid: item.sopInstanceUid,
    attachmentType: item.attachmentType,
    contentType: item.contentType,
    objectKey: item.objectKey,
    status: item.status,
    reason: item.reason,
    header: item.header,
    detectedType: item.detectedType,
    inspectionBytesRead: item.inspectionBytesRead,
    etag: item.etag,
    createdAt: item.createdAt,
    inspectedAt: item.inspectedAt,
  };
}
