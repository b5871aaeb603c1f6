/**
 * Turns a study's accepted objects into the DICOM instances a PACS receives: each image with its
 * identifiers reconciled (a new header, then the rest of the object streamed from S3), each
 * attachment as a DICOM object of its own. Objects are read one at a time as the target asks, so a
 * 20,000-file study never sits in memory.
 */
import { InvalidDicomError } from '../dicom/invalid-dicom-error';
import { readHeaderFrom } from '../dicom/read-header-from';
import type { CompleteHeader } from '../dicom/types';
import type { IdentifierRules } from '../delivery-config';
import type { DeliveryObject, ObjectReader, ObjectStreamer, StudyDeliveryRequest } from '../ports';
import { attachmentToDicom, type StudyContext } from './attachment-dicom';
import { concat, dicomDateTime, identifierChanges, spliceIdentifiers } from './reconcile-identifiers';
import { UndeliverableError } from './undeliverable-error';

/** One instance ready to send: its length is known before its bytes are read, and it can be read again for a retry. */
export interface DeliverableInstance {
  fileId: string;
  sopInstanceUid: string;
  length: number;
  body(): AsyncIterable<Uint8Array>;
}

export interface StudyInstancesDeps {
  reader: Pick<ObjectReader, 'readRange'>;
  streamer: ObjectStreamer;
  rules: IdentifierRules;
  now: () => Date;
}

/** How many images' headers are read ahead of the one being sent. */
const HEADERS_AHEAD = 8;
/** The first ranged read of a header; readHeaderFrom asks for more only when the header is longer. */
const FIRST_HEADER_READ = 64 * 1024;

export function makeStudyInstances(deps: StudyInstancesDeps) {
  /** The header and the bytes read for it (cached, so the splice reuses them). */
  async function readHeader(object: DeliveryObject): Promise<{ header: CompleteHeader; prefix: Uint8Array }> {
    let prefix: Uint8Array = new Uint8Array(0);
    const read = async (start: number, end: number) => {
      const bytes = await deps.reader.readRange(object.key, start, end);
      if (start === prefix.length) prefix = concat([prefix, bytes]);
      return bytes;
    };
    try {
      const header = await readHeaderFrom(read, object.size, FIRST_HEADER_READ);
      return { header, prefix };
    } catch (error) {
      throw error instanceof InvalidDicomError ? unreadable() : error;
    }
  }

  async function dicomInstance(object: DeliveryObject, request: StudyDeliveryRequest, context: { study?: StudyContext }): Promise<DeliverableInstance> {
    const { header, prefix: firstBytes } = await readHeader(object);
    if (header.fields.sopInstanceUid !== object.sopInstanceUid || header.fields.studyInstanceUid !== request.studyInstanceUid) {
      throw new UndeliverableError('UNREADABLE_OBJECT', 'an accepted object no longer matches what inspection verified');
    }
    const changes = { ...identifierChanges(deps.rules, header.fields, request.reference), modifiedAt: dicomDateTime(deps.now()) };
    context.study ??= { sessionId: request.sessionId, studyInstanceUid: request.studyInstanceUid, fields: header.fields, changes };
    let prefix = firstBytes;
    for (;;) {
      const result = unreadableAsUndeliverable(() => spliceIdentifiers(prefix, object.size, header, changes));
      if (result.status === 'ready') {
        const { header: newHeader, restFrom } = result;
        return {
          fileId: object.fileId,
          sopInstanceUid: object.sopInstanceUid!,
          length: newHeader.length + object.size - restFrom,
          body: () => headerThenRest(newHeader, restFrom < object.size ? () => deps.streamer.stream(object.key, restFrom) : undefined),
        };
      }
      const more = await deps.reader.readRange(object.key, prefix.length, Math.min(object.size, Math.max(result.bytesNeeded, prefix.length * 2)));
      if (more.length === 0) throw new UndeliverableError('UNREADABLE_OBJECT', 'an accepted DICOM object is shorter than it was');
      prefix = concat([prefix, more]);
    }
  }

  async function attachmentInstance(object: DeliveryObject, study: StudyContext): Promise<DeliverableInstance> {
    if (!object.attachmentType) throw new UndeliverableError('UNSUPPORTED_ATTACHMENT', 'an attachment has no verified type');
    const content = await deps.reader.readRange(object.key, 0, object.size);
    if (content.length !== object.size) throw new UndeliverableError('UNREADABLE_OBJECT', 'an accepted attachment is shorter than it was');
    const { sopInstanceUid, bytes } = await attachmentToDicom(study, object.fileId, object.attachmentType, content, deps.now());
    return { fileId: object.fileId, sopInstanceUid, length: bytes.length, body: () => once(bytes) };
  }

  /**
   * The study's instances in order: its images first (the first one's header gives the attachments
   * their patient and study attributes), then its attachments. Throws UndeliverableError for an
   * object that can never be delivered.
   */
  return async function* studyInstances(request: StudyDeliveryRequest): AsyncIterable<DeliverableInstance> {
    const context: { study?: StudyContext } = {};
    const images = request.objects.filter((o) => o.kind === 'dicom');
    // Headers are read a few at a time ahead of the sender: one ranged GET each, so a study of
    // thousands of files is not held up by their latency one after another.
    const ahead: Promise<DeliverableInstance>[] = [];
    for (let next = 0; next < images.length || ahead.length > 0; ) {
      while (next < images.length && ahead.length < HEADERS_AHEAD) {
        const pending = dicomInstance(images[next++]!, request, context);
        pending.catch(() => undefined); // rethrown below, in order
        ahead.push(pending);
      }
      yield await ahead.shift()!;
    }
    const attachments = request.objects.filter((o) => o.kind === 'attachment');
    if (attachments.length === 0) return;
    if (!context.study) throw new UndeliverableError('UNSUPPORTED_ATTACHMENT', 'attachments need a DICOM image in their study');
    for (const object of attachments) yield await attachmentInstance(object, context.study);
  };
}

export type StudyInstances = ReturnType<typeof makeStudyInstances>;

const unreadable = () => new UndeliverableError('UNREADABLE_OBJECT', 'an accepted DICOM object can no longer be read');

function unreadableAsUndeliverable<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw error instanceof InvalidDicomError ? unreadable() : error;
  }
}

async function* headerThenRest(header: Uint8Array, rest: (() => AsyncIterable<Uint8Array>) | undefined): AsyncIterable<Uint8Array> {
  if (header.length > 0) yield header;
  if (rest) yield* rest();
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
