/**
 * Local mode's stand-in for the completer's asynchronous invocation (lib/completer.ts): each queued completion is
 * kept as a file under DATA_DIR/completions until the completer finished it, run one at a time, retried twice as
 * Lambda retries an asynchronous event, then set aside as `<session>.failed.json` (Lambda's dead-letter queue).
 * A job cut short by Ctrl-C is still on disk and runs again at the next start; finishing is idempotent.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompletionJob, CompletionQueue } from '../lambdas/core/ports';

/** Lambda's asynchronous invocation: the first run and two retries. */
const ATTEMPTS = 3;
const RETRY_DELAY_MS = 1000;

export class LocalCompletionQueue implements CompletionQueue {
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly options: {
      dir: string;
      run: (job: CompletionJob) => Promise<unknown>;
      onFailure: (job: Pick<CompletionJob, 'sessionId'>, error: unknown, final: boolean) => void;
    },
  ) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  }

  async enqueue(job: CompletionJob): Promise<void> {
    // It holds the uploader's comments and contact: readable by this user only, like the rest of DATA_DIR.
    const file = this.fileOf(job.sessionId);
    writeFileSync(`${file}.tmp`, JSON.stringify(job), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    this.schedule(job);
  }

  /** Queues every job a previous run left unfinished. */
  resume(): number {
    const jobs = readdirSync(this.options.dir).filter((name) => /^[^.]+\.json$/.test(name));
    for (const name of jobs) this.schedule(JSON.parse(readFileSync(join(this.options.dir, name), 'utf8')) as CompletionJob);
    return jobs.length;
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    for (let seen = this.chain; ; seen = this.chain) {
      await seen;
      if (seen === this.chain) return;
    }
  }

  /** Starts no further job (the ones left stay on disk for the next start). */
  stop(): void {
    this.stopped = true;
  }

  private schedule(job: CompletionJob): void {
    this.chain = this.chain.then(() => this.runWithRetries(job)).catch(() => undefined);
  }

  private async runWithRetries(job: CompletionJob): Promise<void> {
    const file = this.fileOf(job.sessionId);
    for (let attempt = 1; attempt <= ATTEMPTS && !this.stopped; attempt++) {
      try {
        await this.options.run(job);
        this.forget(job);
        return;
      } catch (error) {
        this.options.onFailure(job, error, attempt === ATTEMPTS);
        if (attempt === ATTEMPTS && existsSync(file)) renameSync(file, join(this.options.dir, `${job.sessionId}.failed.json`));
        else await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
      }
    }
  }

  /** Removes the job's file, unless a newer job of the same session (a lock taken over) replaced it. */
  private forget(job: CompletionJob): void {
    const file = this.fileOf(job.sessionId);
    if (!existsSync(file)) return;
    const stored = JSON.parse(readFileSync(file, 'utf8')) as CompletionJob;
    if (stored.lockedAt === job.lockedAt) rmSync(file, { force: true });
  }

  private fileOf(sessionId: string): string {
    return join(this.options.dir, `${sessionId}.json`);
  }
}
