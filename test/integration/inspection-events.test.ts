/**
 * The EventBridge publisher with the real SDK client against a local HTTP endpoint that answers
 * PutEvents as EventBridge does (there is no EventBridge emulator): what goes on the wire, and a
 * per-entry failure inside a 200 answer surfaces as an error, never a silently lost event.
 * Also the local recording publisher's JSONL file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '../../lambdas/adapters/eventbridge-publisher';
import { RecordingEventPublisher } from '../../lambdas/adapters/recording-event-publisher';
import type { UploadSessionRejectedEvent } from '../../lambdas/core/events';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators';

const requests: { target: string; body: any }[] = [];
let answer = { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] } as Record<string, unknown>;
let server: Server;
let client: EventBridgeClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      requests.push({ target: String(req.headers['x-amz-target']), body: JSON.parse(text) });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  client = new EventBridgeClient({ endpoint: `http://127.0.0.1:${address.port}`, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  client?.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

const rejected: UploadSessionRejectedEvent = {
  type: 'UploadSessionRejected',
  sessionId: 'S1',
  institutionId: 'demo',
  reasonCodes: ['STUDY_MISMATCH'],
  rejectedAt: '2026-11-28T03:00:00.000Z',
};

describe('EventBridgePublisher', () => {
  it('puts one entry: the bus, source upload-portal.<institution>, the type as detail-type, the rest as detail', async () => {
    const publisher = new EventBridgePublisher({ client, eventBusName: 'upload-portal-demo', institutionId: 'demo' });
    await publisher.publish(rejected);
    const last = requests.at(-1)!;
    expect(last.target).toBe('AWSEvents.PutEvents');
    expect(last.body.Entries).toHaveLength(1);
    const entry = last.body.Entries[0];
    expect(entry).toMatchObject({ EventBusName: 'upload-portal-demo', Source: 'upload-portal.demo', DetailType: 'UploadSessionRejected' });
    expect(JSON.parse(entry.Detail)).toEqual({ sessionId: 'S1', institutionId: 'demo', reasonCodes: ['STUDY_MISMATCH'], rejectedAt: rejected.rejectedAt });
  });

  it('throws when EventBridge reports the entry failed', async () => {
    answer = { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] };
    const publisher = new EventBridgePublisher({ client, eventBusName: 'upload-portal-demo', institutionId: 'demo' });
    await expect(publisher.publish(rejected)).rejects.toThrow(/InternalFailure/);
    answer = { FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] };
  });
});

describe('RecordingEventPublisher', () => {
  it('keeps events in memory and appends them to a JSONL file, shaped like EventBridge events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'events-'));
    try {
      const file = join(dir, 'nested', 'events.jsonl');
      const publisher = new RecordingEventPublisher({ file, clock: { now: () => new Date('2026-11-28T03:00:00.000Z') } });
      await publisher.publish(rejected);
      await publisher.publish({ ...rejected, sessionId: 'S2' });
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toEqual(publisher.events);
      expect(lines[0]).toEqual({
        source: 'upload-portal.demo',
        detailType: 'UploadSessionRejected',
        time: '2026-11-28T03:00:00.000Z',
        detail: { sessionId: 'S1', institutionId: 'demo', reasonCodes: ['STUDY_MISMATCH'], rejectedAt: rejected.rejectedAt },
      });
      expect(publisher.ofType('UploadSessionRejected').map((e) => e.sessionId)).toEqual(['S1', 'S2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
