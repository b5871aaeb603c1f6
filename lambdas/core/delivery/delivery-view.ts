import type { InstitutionConfig } from '../institution';
import type { SessionStatus, StudyDelivery } from '../model';

/** A study's delivery in GET /sessions/{id}: enough for "Delivered to <hospital>" or "the hospital will follow up". */
export interface StudyDeliveryView {
  state: StudyDelivery['state'];
  updatedAt?: string;
  instances?: number;
  reason?: string;
}

/** Accepted studies of an institution that delivers are PENDING until the delivery records them. */
export function deliveryView(delivery: StudyDelivery | undefined, institution: InstitutionConfig, status: SessionStatus): { delivery?: StudyDeliveryView } {
  if (!delivery) return institution.delivery && status === 'ACCEPTED' ? { delivery: { state: 'PENDING' } } : {};
  return {
    delivery: {
      state: delivery.state,
      updatedAt: delivery.updatedAt,
      ...(delivery.instances !== undefined ? { instances: delivery.instances } : {}),
      ...(delivery.reason ? { reason: delivery.reason } : {}),
    },
  };
}
