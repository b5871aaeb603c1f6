/** JS heap figures of a page and its workers in headless Chromium, through CDP. */
import type { CDPSession, Page } from 'playwright-core';

export async function heapUsed(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'JSHeapUsedSize')!.value;
}

export async function collectGarbage(cdp: CDPSession): Promise<void> {
  await cdp.send('HeapProfiler.collectGarbage');
}

/** Samples performance.memory in the page every 20 ms; returns a function that stops and returns the peak. */
export async function startHeapSampling(page: Page): Promise<() => Promise<number>> {
  // A string, not a function: tsx's name-keeping helpers do not exist inside the page.
  await page.evaluate(`(() => {
    const used = () => performance.memory.usedJSHeapSize;
    window.__peak = used();
    window.__sampler = setInterval(() => { window.__peak = Math.max(window.__peak, used()); }, 20);
  })()`);
  return () => page.evaluate<number>(`(() => { clearInterval(window.__sampler); return window.__peak; })()`);
}

/**
 * Samples a worker's JS heap (the page's performance.memory does not include it) through
 * the browser's CDP session: attach to the worker target once it exists, then poll Runtime.getHeapUsage.
 */
export function startWorkerHeapSampling(cdp: CDPSession, matches: (url: string) => boolean): () => Promise<number> {
  let peak = 0;
  let sessionId: string | undefined;
  let nextId = 1;
  const waiting = new Map<number, (value: { usedSize: number }) => void>();
  cdp.on('Target.receivedMessageFromTarget', (event: { sessionId: string; message: string }) => {
    const reply = JSON.parse(event.message) as { id?: number; result?: { usedSize: number } };
    if (reply.id !== undefined && reply.result) waiting.get(reply.id)?.(reply.result), waiting.delete(reply.id);
  });
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        if (!sessionId) {
          const { targetInfos } = await cdp.send('Target.getTargets');
          const worker = targetInfos.find((t) => t.type === 'worker' && matches(t.url));
          if (worker) sessionId = (await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false })).sessionId;
        }
        if (sessionId) {
          const id = nextId++;
          const usage = new Promise<{ usedSize: number }>((resolve) => waiting.set(id, resolve));
          await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method: 'Runtime.getHeapUsage' }) });
          peak = Math.max(peak, (await Promise.race([usage, new Promise<{ usedSize: number }>((r) => setTimeout(() => r({ usedSize: 0 }), 1000))])).usedSize);
        }
      } catch {
        sessionId = undefined; // the worker went away; look for it again
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return peak;
  };
}
