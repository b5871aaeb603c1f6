/**
 * The bytes a HealthImaging import stages for one accepted object: the same reconciled DICOM the
 * DICOMweb target sends (identifiers per `delivery`, header rewritten, pixel data streamed), and
 * attachments wrapped as DICOM in their study. The study's first image gives an attachment its
 * patient and study attributes (one ranged header read; its pixel data is never read).
 */
import { Readable } from 'node:stream';
import { SystemClock } from '../adapters/node-clock';
import { S3ObjectReader } from '../adapters/s3-object-reader';
import { S3ObjectStreamer } from '../adapters/s3-object-streamer';
import type { ObjectContent } from '../adapters/healthimaging-delivery-target';
import { makeStudyInstances } from '../core/delivery/study-instances';
import type { IdentifierRules } from '../core/delivery-config';
import type { DeliveryInfrastructure } from './delivery-deps';

export function reconciledContent(infra: Pick<DeliveryInfrastructure, 's3' | 'bucketName' | 'clock'>, rules: IdentifierRules): ObjectContent {
  const bucket = { s3: infra.s3, bucketName: infra.bucketName };
  const clock = infra.clock ?? new SystemClock();
  const studyInstances = makeStudyInstances({ reader: new S3ObjectReader(bucket), streamer: new S3ObjectStreamer(bucket), rules, now: () => clock.now() });
  return async (object, request) => {
    const firstImage = request.objects.find((o) => o.kind === 'dicom');
    const objects = object.kind === 'dicom' || !firstImage ? [object] : [firstImage, object];
    let last;
    for await (const instance of studyInstances({ ...request, objects })) last = instance;
    if (!last) return undefined;
    return { body: Readable.from(last.body()), contentLength: last.length };
  };
}
