/** Tells the hospital's systems about sessions (EventBridge in AWS; recorded in local mode). */
import type { PortalEvent } from '../events';

export interface EventPublisher {
  publish(event: PortalEvent): Promise<void>;
}
