/** A study's final event is rebuilt from its recorded state alone, so a later run sends what the first would have. */
import { describe, expect, it } from 'vitest';
import { studyDeliveryEvent } from '../../lambdas/core/delivery/study-event';
import type { StudyDelivery } from '../../lambdas/core/model';

const context = { sessionId: 's-1', institutionId: 'demo', manifestKey: 'manifests/s-1.json', studyRef: 'ref-1' };
const at = '2026-12-01T10:00:00.000Z';

describe('studyDeliveryEvent', () => {
  it('announces a DICOMweb delivery with its instances and no job', () => {
    const delivery: StudyDelivery = { state: 'DELIVERED', target: 'dicomweb', updatedAt: at, attempts: 1, instances: 3, eventPending: true };
    expect(studyDeliveryEvent(delivery, context)).toEqual({ type: 'UploadStudyDelivered', ...context, target: 'dicomweb', at, instances: 3 });
  });

  it('names the import job whose end completed a HealthImaging study', () => {
    const delivery: StudyDelivery = { state: 'DELIVERED', target: 'healthimaging', updatedAt: at, attempts: 1, instances: 7, jobId: 'job-2' };
    expect(studyDeliveryEvent(delivery, context)).toEqual({ type: 'UploadStudyDelivered', ...context, target: 'healthimaging', at, instances: 7, jobId: 'job-2' });
  });

  it('announces a failure with its reason and whether it is retried, without the job', () => {
    const delivery: StudyDelivery = { state: 'FAILED', target: 'healthimaging', updatedAt: at, attempts: 2, jobId: 'job-1', reason: 'the import job failed', retryable: true };
    expect(studyDeliveryEvent(delivery, { ...context, manifestKey: undefined })).toEqual({
      type: 'UploadStudyDeliveryFailed',
      sessionId: 's-1',
      institutionId: 'demo',
      studyRef: 'ref-1',
      target: 'healthimaging',
      at,
      reason: 'the import job failed',
      retryable: true,
    });
  });

  it('has nothing to announce for a state that is not final', () => {
    for (const state of ['PENDING', 'SUBMITTED'] as const) expect(studyDeliveryEvent({ state, target: 'healthimaging', updatedAt: at, attempts: 1 }, context)).toBeUndefined();
  });
});
