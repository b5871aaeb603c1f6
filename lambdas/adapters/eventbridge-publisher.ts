/** EventPublisher on EventBridge: detail-type is the event's type, source "upload-portal". */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { EventPublisher, PortalEvent } from '../core/inspection-ports';

export const EVENT_SOURCE = 'upload-portal';

export class EventBridgePublisher implements EventPublisher {
  constructor(private readonly options: { client: EventBridgeClient; eventBusName: string; source?: string }) {}

  async publish(event: PortalEvent): Promise<void> {
    const { type, ...detail } = event;
    const out = await this.options.client.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: this.options.eventBusName, Source: this.options.source ?? EVENT_SOURCE, DetailType: type, Detail: JSON.stringify(detail) }],
      }),
    );
    // PutEvents reports per-entry failures in a 200 response; a lost event must surface as an error.
    if (out.FailedEntryCount) throw new Error(`EventBridge refused the ${type} event: ${out.Entries?.[0]?.ErrorCode ?? 'unknown'}`);
  }
}
