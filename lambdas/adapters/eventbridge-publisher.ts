/**
 * EventPublisher on EventBridge: detail-type is the event's type, source `upload-portal.<institution>`
 * (the stack's PutEvents grant is conditioned on exactly that source).
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { eventSourceFor, type PortalEvent } from '../core/events';
import type { EventPublisher } from '../core/ports';

export class EventBridgePublisher implements EventPublisher {
  constructor(private readonly options: { client: EventBridgeClient; eventBusName: string; institutionId: string }) {}

  async publish(event: PortalEvent): Promise<void> {
    const { type, ...detail } = event;
    const out = await this.options.client.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: this.options.eventBusName, Source: eventSourceFor(this.options.institutionId), DetailType: type, Detail: JSON.stringify(detail) }],
      }),
    );
    // PutEvents reports per-entry failures in a 200 response; a lost event must surface as an error.
    if (out.FailedEntryCount) throw new Error(`EventBridge refused the ${type} event: ${out.Entries?.[0]?.ErrorCode ?? 'unknown'}`);
  }
}
