/**
 * STOW-RS on the wire (PS3.18 10.5): a `multipart/related; type="application/dicom"` body streamed
 * part by part with its exact length known up front, and the store response read per instance.
 */
import { randomBytes } from 'node:crypto';
import type { DeliverableInstance } from '../core/delivery/study-instances';

export interface MultipartBody {
  contentType: string;
  length: number;
  stream(): AsyncIterable<Uint8Array>;
}

const encoder = new TextEncoder();

/** The body of one STOW-RS request; each part is read from its source only when it is sent. */
export function multipartBody(instances: readonly DeliverableInstance[]): MultipartBody {
  const boundary = `stow-${randomBytes(12).toString('hex')}`;
  const partHead = (i: DeliverableInstance, first: boolean) =>
    encoder.encode(`${first ? '' : '\r\n'}--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${i.length}\r\n\r\n`);
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const length = instances.reduce((n, i, index) => n + partHead(i, index === 0).length + i.length, tail.length);
  return {
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    length,
    async *stream() {
      for (const [index, instance] of instances.entries()) {
        yield partHead(instance, index === 0);
        let sent = 0;
        for await (const chunk of instance.body()) {
          sent += chunk.length;
          yield chunk;
        }
        // A source that changed length would corrupt every later part: stop here instead.
        if (sent !== instance.length) throw new Error(`an instance streamed ${sent} bytes instead of ${instance.length}`);
      }
      yield tail;
    },
  };
}

/** PS3.4 GG.4 failure reasons a later attempt may overcome: out of resources. A processing failure (0x0110, what Orthanc answers for an instance of another study) would fail again. */
export function isRetryableFailure(code: number | undefined): boolean {
  return code === undefined || (code >= 0xa700 && code <= 0xa7ff) || code === 0x0213;
}

export interface StowOutcome {
  stored: Set<string>;
  failed: Map<string, number | undefined>;
  warnings: number;
}

type DicomJson = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

/** Reads the Referenced SOP Sequence (0008,1199), Failed SOP Sequence (0008,1198) and Warning Reasons (0008,1196). */
export function readStowResponse(body: unknown): StowOutcome {
  const outcome: StowOutcome = { stored: new Set(), failed: new Map(), warnings: 0 };
  const dataset = (Array.isArray(body) ? body[0] : body) as DicomJson | undefined;
  if (!dataset || typeof dataset !== 'object') return outcome;
  const items = (tag: string) => (dataset[tag]?.Value ?? []) as DicomJson[];
  const uid = (item: DicomJson) => String(item['00081155']?.Value?.[0] ?? '');
  const code = (item: DicomJson, tag: string) => {
    const value = item[tag]?.Value?.[0];
    return typeof value === 'number' ? value : undefined;
  };
  for (const item of items('00081199')) {
    outcome.stored.add(uid(item));
    if (code(item, '00081196') !== undefined) outcome.warnings++;
  }
  for (const item of items('00081198')) outcome.failed.set(uid(item), code(item, '00081197'));
  if (code(dataset, '00081196') !== undefined) outcome.warnings++;
  return outcome;
}
