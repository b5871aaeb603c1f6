/**
 * Fault injection in front of the real emulators: an SDK middleware placed between the retry logic
 * and the wire. A planned fault answers instead of the emulator (a DynamoDB throttle, a cancelled
 * transaction, an S3 500/503: real HTTP error responses the SDK parses and retries as it would on
 * AWS) or fails the call as a timeout or a dying process would. Every other call reaches the emulator.
 */
import type { MiddlewareStack } from '@smithy/types';

export type FaultResponse = { statusCode: number; headers: Record<string, string>; body: string };

export interface Fault {
  /** The SDK command name, e.g. TransactWriteItemsCommand, GetObjectCommand. */
  command: string;
  /** How many matching calls fail (then the emulator answers again). */
  times: number;
  /** Skip this many matching calls before failing. */
  after?: number;
  answer: () => FaultResponse | Error;
}

const dynamoError = (type: string, message: string): FaultResponse => ({
  statusCode: 400,
  headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type },
  body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }),
});

export const faults = {
  /** DynamoDB on-demand throttling (the SDK retries it with backoff). */
  dynamoThrottled: () => dynamoError('ProvisionedThroughputExceededException', 'injected: throughput exceeded'),
  /** A transaction cancelled by a conflicting one (a conditional check on another writer's item). */
  transactionConflict: () => ({
    ...dynamoError('TransactionCanceledException', 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]'),
    body: JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]',
      CancellationReasons: [{ Code: 'TransactionConflict', Message: 'injected' }],
    }),
  }),
  s3Status: (statusCode: 500 | 503) => (): FaultResponse => ({
    statusCode,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${statusCode === 503 ? 'SlowDown' : 'InternalError'}</Code><Message>injected</Message></Error>`,
  }),
  /** What the SDK's HTTP handler throws when a socket times out. */
  timeout: () => Object.assign(new Error('injected: socket timed out'), { name: 'TimeoutError' }),
  /** The Lambda's process ends here: nothing after this call happens in this invocation. */
  processDied: () => Object.assign(new Error('injected: Runtime exited with error: signal: killed'), { name: 'RuntimeExitError', $retryable: undefined }),
};

export interface FaultPlan {
  /** Every planned fault that fired, in order, as `command`. */
  fired: string[];
  add(fault: Fault): void;
  clear(): void;
  remove(): void;
}

/** Installs the injector on a client (a DynamoDBDocumentClient shares its client's stack). */
export function injectFaults(client: { middlewareStack: MiddlewareStack<any, any> }): FaultPlan {
  const planned: (Fault & { seen: number; failed: number })[] = [];
  const fired: string[] = [];
  const name = `faultInjector${Math.random().toString(36).slice(2)}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName ?? '';
      const fault = planned.find((f) => f.command === command && f.failed < f.times && f.seen++ >= (f.after ?? 0));
      if (!fault) return next(args);
      fault.failed++;
      fired.push(command);
      const answer = fault.answer();
      if (answer instanceof Error) throw answer;
      return { response: { ...answer, body: Buffer.from(answer.body) }, output: undefined as never };
    },
    // Inside the retry loop, right before the wire: the SDK retries what we answer.
    { step: 'deserialize', priority: 'low', name },
  );
  return {
    fired,
    add: (fault) => planned.push({ ...fault, seen: 0, failed: 0 }),
    clear: () => {
      planned.length = 0;
      fired.length = 0;
    },
    remove: () => void client.middlewareStack.remove(name),
  };
}
