/**
 * Strongly consistent reads of single items, shared between concurrent callers. The reads asked
 * for in the same turn of the event loop go out together as one BatchGetItem: an SQS batch
 * inspects its files in parallel, and each wants its file and the (same) session item, so ten
 * files cost one call instead of twenty. Every read is still sent after it was asked for, so it
 * sees every write that finished before.
 */
import { BatchGetCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RetryableError, withRetries } from '../core/retry';

type ItemKey = { pk: string; sk: string };
type Item = Record<string, unknown>;

interface PendingRead {
  key: ItemKey;
  waiters: { resolve: (item: Item | undefined) => void; reject: (error: unknown) => void }[];
}

/** BatchGetItem takes at most 100 keys. */
const MAX_KEYS_PER_BATCH = 100;

const idOf = (key: { pk: unknown; sk: unknown }) => `${String(key.pk)}\u0000${String(key.sk)}`;

export class DynamoItemReader {
  /** Reads asked for in this turn of the event loop, not yet sent. */
  private pending: Map<string, PendingRead> | undefined;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  read(key: ItemKey): Promise<Item | undefined> {
    return new Promise((resolve, reject) => {
      if (!this.pending) {
        this.pending = new Map();
        setImmediate(() => void this.flush());
      }
      const id = idOf(key);
      let entry = this.pending.get(id);
      if (!entry) this.pending.set(id, (entry = { key, waiters: [] }));
      entry.waiters.push({ resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const entries = [...(this.pending?.values() ?? [])];
    this.pending = undefined;
    for (let i = 0; i < entries.length; i += MAX_KEYS_PER_BATCH) {
      const chunk = entries.slice(i, i + MAX_KEYS_PER_BATCH);
      try {
        const found = await this.fetch(chunk.map((e) => e.key));
        for (const e of chunk) for (const w of e.waiters) w.resolve(found.get(idOf(e.key)));
      } catch (error) {
        for (const e of chunk) for (const w of e.waiters) w.reject(error);
      }
    }
  }

  private async fetch(itemKeys: ItemKey[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    if (itemKeys.length === 1) {
      const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: itemKeys[0], ConsistentRead: true }));
      if (out.Item) found.set(idOf(itemKeys[0]!), out.Item);
      return found;
    }
    let request: Item[] = itemKeys;
    // Keys left unprocessed under throttling: back off and ask again, as the SDK docs advise.
    await withRetries({ attempts: 8, delayMs: (n) => 20 * 2 ** n }, async () => {
      const out = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: request, ConsistentRead: true } } }));
      for (const item of out.Responses?.[this.table] ?? []) found.set(idOf(item as ItemKey), item);
      request = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      if (request.length > 0) throw new RetryableError(`BatchGetItem left ${request.length} keys unprocessed`);
    });
    return found;
  }
}
