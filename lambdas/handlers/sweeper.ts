/** The scheduled sweep (EventBridge Scheduler/rule): expires abandoned sessions and deletes their objects. */
import type { SweepResult } from '../core/sweep-expired';
import type { Observability } from './observability';
import { sweeperDeps } from './wiring';

export interface SweeperDeps {
  sweepExpired(): Promise<SweepResult>;
  observability: Observability;
}

export function createSweeperHandler(deps: SweeperDeps) {
  return async function sweeper(): Promise<SweepResult> {
    try {
      return await deps.sweepExpired();
    } finally {
      deps.observability.flush();
    }
  };
}

let built: ReturnType<typeof createSweeperHandler> | undefined;
/** AWS entry: deps from the composition root, built on the first run. */
export const handler = (): Promise<SweepResult> => (built ??= createSweeperHandler(sweeperDeps()))();
