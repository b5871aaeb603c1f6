/**
 * S3UploadSigner signs with S3RequestPresigner directly (for speed); its URLs must be exactly what
 * the SDK's getSignedUrl produces for the same PutObject, on emulators (path style) and on AWS
 * (virtual-hosted style, session credentials as in Lambda). Signing is offline: no server needed.
 */
import { describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { S3UploadSigner } from '../../lambdas/adapters/s3-upload-signer';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session/token+with=chars' };
const bucket = 'upload-portal-demo-uploads';
const key = 'sessions/Ab_-0123456789abcdefghij/files/Zz-_9876543210ABCDEFGHIJ';

const normalized = (url: URL) => `${url.origin}${url.pathname}?${[...url.searchParams].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join('&')}`;

describe('S3UploadSigner', () => {
  const setups = [
    { name: 'emulator, path style', config: { region: 'us-east-1', endpoint: 'http://127.0.0.1:4569', forcePathStyle: true } },
    { name: 'AWS eu-central-1, virtual-hosted', config: { region: 'eu-central-1' } },
  ];
  for (const { name, config } of setups) {
    for (const contentType of ['application/dicom', 'application/pdf']) {
      it(`matches getSignedUrl (${name}, content type ${contentType})`, async () => {
        const s3 = new S3Client({ ...config, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
        const sha256 = 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=';
        const signed = await new S3UploadSigner(s3, bucket).signPut({ key, contentLength: 4321, contentType, sha256, expiresInSeconds: 300 });
        const mine = new URL(signed.url);
        const date = mine.searchParams.get('X-Amz-Date')!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
        const reference = new URL(
          await getSignedUrl(
            s3,
            new PutObjectCommand({ Bucket: bucket, Key: key, ContentLength: 4321, Tagging: 'upload-state=pending', ContentType: contentType, ChecksumSHA256: sha256, IfNoneMatch: '*' }),
            {
              expiresIn: 300,
              signingDate: new Date(date),
              signableHeaders: new Set(['content-length', 'content-type', 'if-none-match', 'x-amz-checksum-sha256', 'x-amz-tagging']),
              unhoistableHeaders: new Set(['x-amz-tagging', 'x-amz-checksum-sha256']),
            },
          ),
        );
        expect(normalized(mine)).toBe(normalized(reference));
        expect(mine.searchParams.get('X-Amz-Security-Token')).toBe(credentials.sessionToken);
        expect(mine.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host;if-none-match;x-amz-checksum-sha256;x-amz-tagging');
        // Tag, checksum and condition are signed headers the client must send as given, never query parameters.
        expect(mine.searchParams.has('x-amz-tagging')).toBe(false);
        expect(mine.searchParams.has('x-amz-checksum-sha256')).toBe(false);
        expect(signed.headers).toEqual({ 'content-type': contentType, 'x-amz-checksum-sha256': sha256, 'if-none-match': '*', 'x-amz-tagging': 'upload-state=pending' });
        expect(mine.pathname.endsWith(`/${key}`)).toBe(true);
      });
    }
  }
});
