/**
 * Quota reservations (ReservationStore port): one TransactWriteItems per upload request, whose
 * condition expressions are the guarantee that no limit is ever overshot, whatever runs concurrently:
 *   session: OPEN, unexpired, reservedBytes + batch ≤ maxSessionBytes
 *   study:   new, or bytes + batch ≤ maxStudyBytes and attachmentCount + n ≤ maxAttachmentsPerStudy
 *   file:    new item, or one removed; a DICOM file's id is derived from its SOPInstanceUID
 *            (core/uploads.ts dicomFileId), so this condition also keeps one image from being declared twice
 */
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FileRecord } from '../core/model';
import type { Reservation, ReservationRefusal, ReservationStore } from '../core/ports';
import { cancellationCodes } from './dynamo-errors';
import { keys, type FileItem } from './table';

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/** The statuses whose bytes the inspector added to receivedBytes (./dynamo-file-verdicts.ts). */
const COUNTED_AS_RECEIVED = new Set(['VERIFIED', 'REJECTED']);

export class DynamoReservationStore implements ReservationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async reserve(r: Reservation): Promise<{ ok: true } | { ok: false; refusal: ReservationRefusal }> {
    const items: TransactItem[] = [];
    const roles: ReservationRefusal[] = [];
    items.push({
      Update: {
        TableName: this.table,
        Key: keys.session(r.sessionId),
        UpdateExpression:
          'SET reservedBytes = reservedBytes + :bytes, dicomCount = dicomCount + :dicom, attachmentCount = attachmentCount + :attachments, version = version + :one',
        ConditionExpression: '#status = :open AND expiresAt > :now AND reservedBytes <= :room',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':bytes': r.bytes,
          ':dicom': r.dicomFiles,
          ':attachments': r.attachments,
          ':one': 1,
          ':open': 'OPEN',
          ':now': r.now.toISOString(),
          ':room': r.limits.maxSessionBytes - r.bytes,
        },
      },
    });
    roles.push('session');
    for (const study of r.studies) {
      items.push({
        Update: {
          TableName: this.table,
          Key: keys.study(r.sessionId, study.studyInstanceUid),
          UpdateExpression:
            'SET studyInstanceUid = :uid, bytes = if_not_exists(bytes, :zero) + :bytes, dicomCount = if_not_exists(dicomCount, :zero) + :dicom, attachmentCount = if_not_exists(attachmentCount, :zero) + :attachments, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(pk) OR (bytes <= :studyRoom AND attachmentCount <= :attachmentRoom)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':uid': study.studyInstanceUid,
            ':zero': 0,
            ':bytes': study.bytes,
            ':dicom': study.dicomFiles,
            ':attachments': study.attachments,
            ':ttl': r.ttlEpochSeconds,
            ':studyRoom': r.limits.maxStudyBytes - study.bytes,
            ':attachmentRoom': r.limits.maxAttachmentsPerStudy - study.attachments,
          },
        },
      });
      roles.push('study');
    }
    for (const file of r.files) {
      items.push({
        Put: {
          TableName: this.table,
          Item: fileItemOf(file, r.ttlEpochSeconds),
          // A removed image may be declared again: its item is replaced.
          ConditionExpression: 'attribute_not_exists(pk) OR #status = :removed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':removed': 'REMOVED' },
        },
      });
      roles.push(file.kind === 'dicom' && file.sopInstanceUid ? 'duplicate-sop' : 'file-exists');
    }
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (error) {
      const codes = cancellationCodes(error);
      if (!codes) throw error;
      const failed = codes.findIndex((code) => code === 'ConditionalCheckFailed');
      return { ok: false, refusal: failed >= 0 ? roles[failed]! : 'conflict' };
    }
  }

  async release(file: FileRecord, now: Date): Promise<'released' | 'stale'> {
    const dicom = file.kind === 'dicom' ? 1 : 0;
    const received = COUNTED_AS_RECEIVED.has(file.status) ? file.size : 0;
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.table,
          Key: keys.file(file.sessionId, file.fileId),
          UpdateExpression: 'SET #status = :removed, removedAt = :now',
          ConditionExpression: '#status = :previous',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':removed': 'REMOVED', ':previous': file.status, ':now': now.toISOString() },
        },
      },
      {
        Update: {
          TableName: this.table,
          Key: keys.session(file.sessionId),
          UpdateExpression:
            'SET reservedBytes = reservedBytes - :size, receivedBytes = receivedBytes - :received, dicomCount = dicomCount - :dicom, attachmentCount = attachmentCount - :attachment, version = version + :one ADD verifiedCount :verified, rejectedCount :rejected',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':size': file.size,
            ':received': received,
            ':dicom': dicom,
            ':attachment': 1 - dicom,
            ':one': 1,
            ':open': 'OPEN',
            ':verified': file.status === 'VERIFIED' ? -1 : 0,
            ':rejected': file.status === 'REJECTED' ? -1 : 0,
          },
        },
      },
      {
        Update: {
          TableName: this.table,
          Key: keys.study(file.sessionId, file.studyInstanceUid),
          UpdateExpression:
            'SET bytes = bytes - :size, dicomCount = dicomCount - :dicom, attachmentCount = attachmentCount - :attachment ADD receivedBytes :unreceived, verifiedCount :verified, rejectedCount :rejected',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: {
            ':size': file.size,
            ':dicom': dicom,
            ':attachment': 1 - dicom,
            // The verdict's counters (adapters/dynamo-study-counters.ts) lose the file with the session's.
            ':unreceived': -received,
            ':verified': file.status === 'VERIFIED' ? -1 : 0,
            ':rejected': file.status === 'REJECTED' ? -1 : 0,
          },
        },
      },
    ];
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return 'released';
    } catch (error) {
      if (cancellationCodes(error)) return 'stale';
      throw error;
    }
  }
}

function fileItemOf(file: FileRecord, ttl: number): FileItem {
  return { ...keys.file(file.sessionId, file.fileId), ...file, ttl };
}
