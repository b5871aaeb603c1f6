/**
 * Every item of a Query or a Scan, page after page: DynamoDB ends a page at 1 MB (or at the input's
 * Limit) and hands back LastEvaluatedKey, which the SDK's paginator passes on as ExclusiveStartKey
 * until there is none. The input is used as given: filters, projection, consistency and order stay
 * the caller's. A caller that pages explicitly (a `?cursor=` API) sends one QueryCommand itself.
 */
import { paginateQuery, paginateScan, type DynamoDBDocumentClient, type QueryCommandInput, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';

type Paged<Input> = Omit<Input, 'ExclusiveStartKey'>;

export async function* queryItems<T = Record<string, unknown>>(doc: DynamoDBDocumentClient, input: Paged<QueryCommandInput>): AsyncGenerator<T> {
  // A copy: the paginator writes each page's start key into the input it is given.
  for await (const page of paginateQuery({ client: doc }, { ...input })) yield* (page.Items ?? []) as T[];
}

export async function* scanItems<T = Record<string, unknown>>(doc: DynamoDBDocumentClient, input: Paged<ScanCommandInput>): AsyncGenerator<T> {
  for await (const page of paginateScan({ client: doc }, { ...input })) yield* (page.Items ?? []) as T[];
}

/** The items of queryItems/scanItems in one array, in the order DynamoDB returned them. */
export async function allItems<T>(items: AsyncIterable<T>): Promise<T[]> {
  const found: T[] = [];
  for await (const item of items) found.push(item);
  return found;
}
