/**
 * What the handlers cost in AWS requests, counted where local mode runs them: every DynamoDB call (with the capacity
 * units DynamoDB Local reports for it), every S3 call the handlers make, and every Lambda invocation with its time.
 * Local mode writes the totals to `<DATA_DIR>/usage.json` when it stops; `bench:cost` prices them.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { getHeapStatistics } from 'node:v8';

/** Operations that accept ReturnConsumedCapacity. */
const METERED_DYNAMO_OPERATIONS = new Set([
  'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem', 'TransactWriteItems', 'TransactGetItems',
]);

export interface DynamoUsage {
  calls: number;
  readUnits: number;
  writeUnits: number;
  /** Items written, by kind (the sort key's prefix: FILE, STUDY, SESSION, …). */
  itemsWritten: Record<string, number>;
}

export interface InvocationUsage {
  count: number;
  /** Wall time of all invocations, ms (local mode's machine, not Lambda's). */
  ms: number;
  /** The longest invocation, ms. */
  maxMs: number;
  /**
   * The most the JavaScript heap grew during one invocation, MB: what the invocation needs above a Lambda's
   * baseline. Sampled every 50 ms and at the end; other handlers running at the same time count too (an upper bound).
   */
  maxHeapGrowthMb?: number;
}

export interface Usage {
  dynamo: Record<string, DynamoUsage>;
  s3: Record<string, number>;
  invocations: Record<string, InvocationUsage>;
}

interface ConsumedCapacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

type Keyed = { Key?: Record<string, unknown>; Item?: Record<string, unknown> };
type TransactItem = { Put?: Keyed; Update?: Keyed; Delete?: Keyed; ConditionCheck?: Keyed };

/**
 * The items a write request writes, with the kind of each and its billed units: a Put's by its size (1 KB each,
 * rounded up), an Update's or Delete's as 1 (the stored item's size is not in the request; ours stay under 1 KB).
 */
function writtenItems(operation: string, input: { TransactItems?: TransactItem[] } & Keyed): { kind: string; units: number }[] {
  const kindOf = (keyed: Keyed) => String((keyed.Item ?? keyed.Key)?.sk ?? '?').split('#')[0]!;
  const unitsOf = (keyed: Keyed) => (keyed.Item ? Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(keyed.Item)) / 1024)) : 1);
  if (operation === 'TransactWriteItems') {
    return (input.TransactItems ?? []).flatMap((t) => {
      const keyed = t.Put ?? t.Update ?? t.Delete;
      return keyed ? [{ kind: kindOf(keyed), units: unitsOf(keyed) }] : [];
    });
  }
  if (operation === 'PutItem' || operation === 'UpdateItem' || operation === 'DeleteItem') return [{ kind: kindOf(input), units: unitsOf(input) }];
  return [];
}

const operationOf = (commandName: unknown) => String(commandName ?? 'unknown').replace(/Command$/, '');

export class UsageMeter {
  private readonly usage: Usage = { dynamo: {}, s3: {}, invocations: {} };

  /** Counts every call of `client` (a document client shares its base client's middleware stack). */
  meterDynamo(client: Pick<DynamoDBClient, 'middlewareStack'>): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = operationOf(context.commandName);
        const entry = (this.usage.dynamo[operation] ??= { calls: 0, readUnits: 0, writeUnits: 0, itemsWritten: {} });
        entry.calls++;
        const input = args.input as { ReturnConsumedCapacity?: string; TransactItems?: TransactItem[] };
        if (METERED_DYNAMO_OPERATIONS.has(operation)) input.ReturnConsumedCapacity ??= 'TOTAL';
        const written = writtenItems(operation, input);
        for (const item of written) entry.itemsWritten[item.kind] = (entry.itemsWritten[item.kind] ?? 0) + 1;
        const result = await next(args);
        if (operation === 'TransactWriteItems') {
          // DynamoDB Local reports a flat figure for a transaction; AWS bills 2 units per item and KB.
          entry.writeUnits += written.reduce((sum, item) => sum + 2 * item.units, 0);
          return result;
        }
        const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
        for (const unit of [consumed ?? []].flat()) this.addCapacity(entry, operation, unit);
        return result;
      },
      { step: 'initialize', name: 'localUsageMeter', override: true },
    );
  }

  meterS3(client: Pick<S3Client, 'middlewareStack'>): void {
    client.middlewareStack.add(
      (next, context) => (args) => {
        const operation = operationOf(context.commandName);
        this.usage.s3[operation] = (this.usage.s3[operation] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'localUsageMeter', override: true },
    );
  }

  /** Wraps a handler so each call counts as one invocation of `functionName`. */
  meterInvocations<A extends unknown[], R>(functionName: string, handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A) => {
      const started = performance.now();
      const heapAtStart = getHeapStatistics().used_heap_size;
      let heapPeak = heapAtStart;
      const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, getHeapStatistics().used_heap_size)), 50);
      try {
        return await handler(...args);
      } finally {
        clearInterval(sampler);
        heapPeak = Math.max(heapPeak, getHeapStatistics().used_heap_size);
        const entry = (this.usage.invocations[functionName] ??= { count: 0, ms: 0, maxMs: 0 });
        const ms = performance.now() - started;
        entry.count++;
        entry.ms += ms;
        entry.maxMs = Math.max(entry.maxMs, ms);
        entry.maxHeapGrowthMb = Math.max(entry.maxHeapGrowthMb ?? 0, (heapPeak - heapAtStart) / 1048576);
      }
    };
  }

  snapshot(): Usage {
    return structuredClone(this.usage);
  }

  /** Transactions report their units as CapacityUnits only; a transaction of writes is all write units. */
  private addCapacity(entry: DynamoUsage, operation: string, unit: ConsumedCapacity): void {
    if (unit.ReadCapacityUnits !== undefined || unit.WriteCapacityUnits !== undefined) {
      entry.readUnits += unit.ReadCapacityUnits ?? 0;
      entry.writeUnits += unit.WriteCapacityUnits ?? 0;
    } else if (/^(Get|Query|Scan|BatchGet|TransactGet)/.test(operation)) {
      entry.readUnits += unit.CapacityUnits ?? 0;
    } else {
      entry.writeUnits += unit.CapacityUnits ?? 0;
    }
  }
}
