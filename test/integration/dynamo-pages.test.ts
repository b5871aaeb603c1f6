/**
 * queryItems/scanItems (lambdas/adapters/dynamo-pages.ts) against DynamoDB Local: a small Limit forces
 * many pages, and every item comes back once, in DynamoDB's order, with the caller's filter, projection
 * and direction; a throttled page is retried by the SDK without losing or repeating an item.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { allItems, queryItems, scanItems } from '../../lambdas/adapters/dynamo-pages';
import { createTestTable, type TestTable } from './helpers/emulators';
import { faults, injectFaults, type FaultPlan } from './helpers/faults';

const ITEMS = 23;
const LIMIT = 4;

let table: TestTable;
let plan: FaultPlan;
/** The requests the document client sent, by command name. */
const sent: string[] = [];

const sk = (i: number) => `ITEM#${String(i).padStart(3, '0')}`;

beforeAll(async () => {
  table = await createTestTable('dynamo-pages');
  const items = [
    ...Array.from({ length: ITEMS }, (_, i) => ({ pk: 'PAGES', sk: sk(i), n: i, even: i % 2 === 0 })),
    // Same partition, another prefix: a begins_with condition leaves it out.
    { pk: 'PAGES', sk: 'OTHER#1', n: -1, even: false },
  ];
  for (let i = 0; i < items.length; i += 25) {
    await table.doc.send(new BatchWriteCommand({ RequestItems: { [table.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
  table.doc.middlewareStack.add(
    (next, context) => (args) => {
      sent.push((context as { commandName?: string }).commandName ?? '');
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  plan = injectFaults(table.doc);
});
afterAll(async () => table?.drop());

function requests(command: string): number {
  return sent.filter((name) => name === command).length;
}

function startCounting(): void {
  sent.length = 0;
  plan.clear();
}

const prefixQuery = { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': 'PAGES', ':prefix': 'ITEM#' } };

describe('queryItems', () => {
  it('walks every page of a Query: all items once, in sort-key order', async () => {
    startCounting();
    const items = await allItems(queryItems<{ sk: string; n: number }>(table.doc, { TableName: table.tableName, ...prefixQuery, Limit: LIMIT, ConsistentRead: true }));
    expect(items.map((item) => item.n)).toEqual(Array.from({ length: ITEMS }, (_, i) => i));
    // 23 items at 4 a page: 6 pages, the last one short, so DynamoDB hands back no start key after it.
    expect(requests('QueryCommand')).toBe(Math.ceil(ITEMS / LIMIT));
  });

  it('keeps the caller\'s direction, projection and filter on every page', async () => {
    startCounting();
    const items = await allItems(
      queryItems(table.doc, {
        TableName: table.tableName,
        ...prefixQuery,
        FilterExpression: 'even = :yes',
        ExpressionAttributeValues: { ...prefixQuery.ExpressionAttributeValues, ':yes': true },
        ProjectionExpression: 'n',
        ScanIndexForward: false,
        Limit: LIMIT,
      }),
    );
    const evensDescending = Array.from({ length: ITEMS }, (_, i) => ITEMS - 1 - i).filter((n) => n % 2 === 0);
    expect(items).toEqual(evensDescending.map((n) => ({ n })));
    expect(requests('QueryCommand')).toBe(Math.ceil(ITEMS / LIMIT));
  });

  it('reads no further page than its consumer asks for', async () => {
    startCounting();
    const firstTwo: number[] = [];
    for await (const item of queryItems<{ n: number }>(table.doc, { TableName: table.tableName, ...prefixQuery, Limit: LIMIT })) {
      firstTwo.push(item.n);
      if (firstTwo.length === 2) break;
    }
    expect(firstTwo).toEqual([0, 1]);
    expect(requests('QueryCommand')).toBe(1);
  });

  it('a throttled page is retried: no item lost, none twice', async () => {
    startCounting();
    plan.add({ command: 'QueryCommand', times: 1, after: 2, answer: faults.dynamoThrottled });
    const items = await allItems(queryItems<{ n: number }>(table.doc, { TableName: table.tableName, ...prefixQuery, Limit: LIMIT }));
    expect(plan.fired).toEqual(['QueryCommand']);
    expect(items.map((item) => item.n)).toEqual(Array.from({ length: ITEMS }, (_, i) => i));
  });

  it('leaves the caller\'s input as it was', async () => {
    const input = { TableName: table.tableName, ...prefixQuery, Limit: LIMIT };
    const before = structuredClone(input);
    await allItems(queryItems(table.doc, input));
    expect(input).toStrictEqual(before);
  });
});

describe('scanItems', () => {
  it('walks every page of a filtered Scan, empty pages included', async () => {
    startCounting();
    // The filter applies after each page is read: with 2 items a page most pages match nothing.
    const items = await allItems(
      scanItems<{ n: number }>(table.doc, {
        TableName: table.tableName,
        FilterExpression: 'pk = :pk AND n >= :from',
        ExpressionAttributeValues: { ':pk': 'PAGES', ':from': ITEMS - 3 },
        Limit: 2,
      }),
    );
    expect(items.map((item) => item.n).sort((a, b) => a - b)).toEqual([ITEMS - 3, ITEMS - 2, ITEMS - 1]);
    // 24 items at 2 a page: 12 full pages, then an empty one that ends the Scan.
    expect(requests('ScanCommand')).toBe((ITEMS + 1) / 2 + 1);
  });
});
