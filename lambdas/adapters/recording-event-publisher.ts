/** EventPublisher for local mode and tests: keeps events in memory and, if given a file, appends JSONL. */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { eventSourceFor, type PortalEvent } from '../core/events';
import type { Clock, EventPublisher } from '../core/ports';

export interface RecordedEvent {
  source: string;
  detailType: PortalEvent['type'];
  time: string;
  detail: Omit<PortalEvent, 'type'>;
}

export class RecordingEventPublisher implements EventPublisher {
  readonly events: RecordedEvent[] = [];

  constructor(private readonly options: { file?: string; institutionId?: string; clock?: Clock } = {}) {}

  async publish(event: PortalEvent): Promise<void> {
    const { type, ...detail } = event;
    const recorded: RecordedEvent = {
      source: eventSourceFor(this.options.institutionId ?? event.institutionId),
      detailType: type,
      time: (this.options.clock?.now() ?? new Date()).toISOString(),
      detail,
    };
    this.events.push(recorded);
    if (this.options.file) {
      await mkdir(dirname(this.options.file), { recursive: true });
      await appendFile(this.options.file, `${JSON.stringify(recorded)}\n`);
    }
  }

  /** The details of every recorded event of one type. */
  ofType<T extends PortalEvent['type']>(type: T): Omit<Extract<PortalEvent, { type: T }>, 'type'>[] {
    return this.events.filter((e) => e.detailType === type).map((e) => e.detail as Omit<Extract<PortalEvent, { type: T }>, 'type'>);
  }
}
