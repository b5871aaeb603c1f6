/**
 * FileVerdicts on the table, batched: the verdicts of one session that arrive within a few
 * milliseconds (the files of an SQS batch, inspected in parallel) share one transaction. Each file
 * keeps its own condition, the session gets the sum of their sizes. A file whose condition fails
 * is 'already' and the others are written again without it, so the result for every file is what
 * a transaction of its own would have given.
 */
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Verdict } from '../core/model';
import type { FileVerdicts, VerdictTarget } from '../core/ports';
import { cancellationCodes, isConditionFailure } from './dynamo-errors';
import { keys } from './table';
import { studyCounterUpdates } from './dynamo-study-counters';

/** How long a verdict waits for others of the same session to share its transaction. */
const VERDICT_WINDOW_MS = 10;
/** A transaction holds at most 100 items: the file items, the session item and their study items. */
const MAX_ITEMS_PER_TRANSACTION = 100;

interface PendingVerdict {
  fileId: string;
  studyInstanceUid: string;
  verdict: Verdict;
  resolve: (result: 'recorded' | 'already') => void;
  reject: (error: unknown) => void;
}

export class DynamoFileVerdicts implements FileVerdicts {
  /** Verdicts waiting for the next write, by session. */
  private pending: Map<string, PendingVerdict[]> | undefined;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  recordVerdict(file: VerdictTarget, verdict: Verdict): Promise<'recorded' | 'already'> {
    const { sessionId, fileId, studyInstanceUid } = file;
    return new Promise((resolve, reject) => {
      if (!this.pending) {
        this.pending = new Map();
        setTimeout(() => void this.flush(), VERDICT_WINDOW_MS);
      }
      const group = this.pending.get(sessionId) ?? [];
      group.push({ fileId, studyInstanceUid, verdict, resolve, reject });
      this.pending.set(sessionId, group);
    });
  }

  private async flush(): Promise<void> {
    const groups = this.pending ?? new Map<string, PendingVerdict[]>();
    this.pending = undefined;
    await Promise.all(
      [...groups].map(async ([sessionId, verdicts]) => {
        // One item at most once per transaction: a repeated event for the same file waits for the next.
        let rest = verdicts;
        while (rest.length > 0) {
          const seen = new Set<string>();
          const studies = new Set<string>();
          const now: PendingVerdict[] = [];
          const later: PendingVerdict[] = [];
          for (const v of rest) {
            // With v: its file item and those before it, the session item, and the study items.
            const items = now.length + 1 + 1 + studies.size + (studies.has(v.studyInstanceUid) ? 0 : 1);
            if (!seen.has(v.fileId) && items <= MAX_ITEMS_PER_TRANSACTION) {
              seen.add(v.fileId);
              studies.add(v.studyInstanceUid);
              now.push(v);
            } else later.push(v);
          }
          await this.write(sessionId, now);
          rest = later;
        }
      }),
    );
  }

  private async write(sessionId: string, verdicts: PendingVerdict[]): Promise<void> {
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
                  // The counters GET /sessions/{id} shows (core/session-summary.ts), kept with the verdicts.
                  UpdateExpression: 'ADD receivedBytes :size, verifiedCount :verified, rejectedCount :rejected',
                  ConditionExpression: 'attribute_exists(pk)',
                  ExpressionAttributeValues: {
                    ':size': rest.reduce((sum, v) => sum + v.verdict.size, 0),
                    ':verified': rest.filter((v) => v.verdict.status === 'VERIFIED').length,
                    ':rejected': rest.filter((v) => v.verdict.status === 'REJECTED').length,
                  },
                },
              },
              // The same counters per study, and the header fields that name it (core/study-header.ts).
              ...studyCounterUpdates(this.table, sessionId, rest).map((update) => ({ Update: update })),
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
        const codes = cancellationCodes(error) ?? [];
        const sessionGone = codes[rest.length] === 'ConditionalCheckFailed';
        const next: PendingVerdict[] = [];
        rest.forEach((v, i) => (sessionGone || codes[i] === 'ConditionalCheckFailed' ? v.resolve('already') : next.push(v)));
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
}
