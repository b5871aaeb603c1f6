import { describe, expect, it } from 'vitest';
import type { SessionState } from '../../web/src/api';
import { DELIVERY_POLL, deliverySummary, pollDelay, watchDelivery } from '../../web/src/store/delivery';

type Studies = NonNullable<SessionState['studies']>;
const study = (uid: string, state?: 'PENDING' | 'SUBMITTED' | 'DELIVERED' | 'FAILED'): Studies[number] => ({
  studyInstanceUid: uid,
  bytes: 10,
  dicomFiles: 1,
  attachments: 0,
  counts: { declared: 1, received: 1, verified: 1, rejected: 0 },
  receivedBytes: 10,
  ...(state ? { delivery: { state } } : {}),
});
const view = (studies: Studies): SessionState => ({ status: 'ACCEPTED', limits: {} as SessionState['limits'], usage: { reservedBytes: 0, receivedBytes: 0 }, files: [], studies });

/** A fake clock the sleeps advance, so the time limit is reached without waiting. */
function clock() {
  let now = 0;
  const slept: number[] = [];
  return { now: () => now, slept, sleep: async (ms: number) => void (slept.push(ms), (now += ms)) };
}

describe('delivery on the result page', () => {
  it('sums the studies up: none configured, pending while any is PENDING or SUBMITTED, done, or left to the hospital', () => {
    expect(deliverySummary(undefined)).toBe('none');
    expect(deliverySummary([study('1'), study('2')])).toBe('none');
    expect(deliverySummary([study('1', 'DELIVERED'), study('2', 'PENDING')])).toBe('pending');
    expect(deliverySummary([study('1', 'SUBMITTED')])).toBe('pending');
    expect(deliverySummary([study('1', 'DELIVERED'), study('2', 'DELIVERED')])).toBe('done');
    expect(deliverySummary([study('1', 'DELIVERED'), study('2', 'FAILED')])).toBe('followUp');
  });

  it('waits longer between polls, up to a cap', () => {
    const delays = Array.from({ length: 20 }, (_, i) => pollDelay(i));
    expect(delays[0]).toBe(DELIVERY_POLL.firstDelayMs);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
    expect(delays[1]).toBeGreaterThan(delays[0]!);
    expect(Math.max(...delays)).toBe(DELIVERY_POLL.maxDelayMs);
  });

  it('polls until every study is DELIVERED or FAILED, passing each answer on, and survives a failed poll', async () => {
    const answers: (Studies | Error)[] = [[study('1', 'PENDING'), study('2', 'PENDING')], new Error('network'), [study('1', 'DELIVERED'), study('2', 'PENDING')], [study('1', 'DELIVERED'), study('2', 'FAILED')]];
    const seen: Studies[] = [];
    const c = clock();
    let polls = 0;
    const outcome = await watchDelivery(
      {
        getSummary: async () => {
          const next = answers[polls++]!;
          if (next instanceof Error) throw next;
          return view(next);
        },
        onStudies: (studies) => seen.push(studies!),
        ...c,
      },
      [study('1', 'PENDING'), study('2', 'PENDING')],
    );
    expect(outcome).toBe('followUp');
    expect(polls).toBe(4);
    expect(seen.map((x) => x.map((y) => y.delivery?.state).join())).toEqual(['PENDING,PENDING', 'DELIVERED,PENDING', 'DELIVERED,FAILED']);
    expect(c.slept).toEqual([0, 1, 2, 3].map(pollDelay));
  });

  it('gives up after the time limit while a study stays pending', async () => {
    const c = clock();
    let polls = 0;
    const outcome = await watchDelivery({ getSummary: async () => (polls++, view([study('1', 'PENDING')])), onStudies: () => {}, ...c }, [study('1', 'PENDING')]);
    expect(outcome).toBe('pending');
    expect(c.now()).toBeGreaterThanOrEqual(DELIVERY_POLL.giveUpAfterMs);
    expect(c.now()).toBeLessThan(DELIVERY_POLL.giveUpAfterMs + DELIVERY_POLL.maxDelayMs);
    // Bounded: about giveUp / maxDelay polls once the pause reached its cap, not thousands.
    expect(polls).toBeLessThan(50);
  });

  it('does not poll what is settled, looks once when the answer predates the delivery view, and stops when asked', async () => {
    let polls = 0;
    const getSummary = async () => (polls++, view([study('1')]));
    expect(await watchDelivery({ getSummary, onStudies: () => {}, ...clock() }, [study('1', 'DELIVERED')])).toBe('done');
    expect(polls).toBe(0);
    expect(await watchDelivery({ getSummary, onStudies: () => {}, ...clock() }, [study('1')])).toBe('none');
    expect(polls).toBe(1);
    let stop = false;
    const c = clock();
    const stopping = { getSummary: async () => ((stop = true), polls++, view([study('1', 'PENDING')])), onStudies: () => {}, stopped: () => stop, ...c };
    expect(await watchDelivery(stopping, [study('1', 'PENDING')])).toBe('pending');
    expect(polls).toBe(2);
  });
});
