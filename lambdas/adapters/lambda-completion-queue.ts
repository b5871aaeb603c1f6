/**
 * CompletionQueue on Lambda: an asynchronous invocation (InvocationType Event) of the completer function. Lambda
 * keeps the event in its own queue, retries a failed run twice and then sends it to the function's dead-letter
 * queue (lib/completer.ts). The payload holds the uploader's comments and contact: it never leaves the account.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { CompletionJob, CompletionQueue } from '../core/ports';

export class LambdaCompletionQueue implements CompletionQueue {
  constructor(private readonly options: { client: LambdaClient; functionName: string }) {}

  async enqueue(job: CompletionJob): Promise<void> {
    const out = await this.options.client.send(
      new InvokeCommand({ FunctionName: this.options.functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(job)) }),
    );
    // 202 is Lambda's "queued"; anything else means the job was not taken.
    if (out.StatusCode !== 202) throw new Error(`Lambda did not queue the completion (status ${out.StatusCode})`);
  }
}
