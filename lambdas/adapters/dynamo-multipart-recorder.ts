/** Records a file's multipart upload on its file item (MultipartRecorder port), once, while the file is RESERVED. */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MultipartRecorder } from '../core/ports/multipart-uploads';
import { isConditionalCheckFailed } from './dynamo-errors';
import { keys } from './table';

export class DynamoMultipartRecorder implements MultipartRecorder {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async recordUpload(sessionId: string, fileId: string, transfer: { uploadId: string; partSize: number; partCount: number }): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.file(sessionId, fileId),
          UpdateExpression: 'SET multipart = :transfer',
          ConditionExpression: 'attribute_exists(pk) AND #status = :reserved AND attribute_not_exists(multipart)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':transfer': transfer, ':reserved': 'RESERVED' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
