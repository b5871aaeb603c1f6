/**
 * Events: the institution's EventBridge bus. Completion and inspection publish
 * `UploadSessionAccepted` / `UploadSessionRejected` with source `upload-portal.<institution id>`;
 * the hospital subscribes its PACS import or ticketing with rules on this bus.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { eventSourceFor } from '../lambdas/core/events';
import type { AppFunction } from './app-function';

export const EVENT_DETAIL_TYPES = ['UploadSessionAccepted', 'UploadSessionRejected'] as const;

export { eventSourceFor };

export class PortalEvents extends Construct {
  readonly bus: events.EventBus;
  readonly source: string;

  constructor(scope: Construct, id: string, props: { institution: InstitutionConfig }) {
    super(scope, id);
    this.source = eventSourceFor(props.institution.id);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: `upload-portal-${props.institution.id}`,
      description: `Upload Portal ${props.institution.name}: ${EVENT_DETAIL_TYPES.join(', ')} (source ${this.source})`,
    });
  }

  /** EVENT_BUS_NAME plus PutEvents on this bus, only with this institution's source. */
  bindPublisher(fn: AppFunction): void {
    fn.addEnvironment('EVENT_BUS_NAME', this.bus.eventBusName);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'events:source': this.source } },
      }),
    );
  }
}
