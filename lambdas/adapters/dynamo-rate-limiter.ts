/**
 * Failure counting in fixed windows (RateLimiter port): one counter item per key and window, expired
 * by TTL. Keys arrive hashed; no client address is stored.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../core/ports';
import { keys } from './table';

export interface RateLimitPolicy {
  maxFailures: number;
  windowSeconds: number;
}

/** 10 failed redemptions per address per 10 minutes: a typo-prone human never gets there. */
export const REDEMPTION_RATE_LIMIT: RateLimitPolicy = { maxFailures: 10, windowSeconds: 600 };

export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly policy: RateLimitPolicy = REDEMPTION_RATE_LIMIT,
  ) {}

  private window(now: Date) {
    const seconds = now.getTime() / 1000;
    const index = Math.floor(seconds / this.policy.windowSeconds);
    return { index, endsAt: (index + 1) * this.policy.windowSeconds, seconds };
  }

  async blockedFor(key: string, now: Date): Promise<number> {
    const window = this.window(now);
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.rate(key, window.index), ConsistentRead: true }));
    const failures = Number(out.Item?.failures ?? 0);
    return failures >= this.policy.maxFailures ? Math.max(1, Math.ceil(window.endsAt - window.seconds)) : 0;
  }

  async recordFailure(key: string, now: Date): Promise<void> {
    const window = this.window(now);
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.rate(key, window.index),
        UpdateExpression: 'ADD failures :one SET #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': 1, ':ttl': window.endsAt + 60 },
      }),
    );
  }
}
