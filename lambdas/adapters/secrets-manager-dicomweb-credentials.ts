/**
 * The PACS credentials for DICOMweb delivery, from the one Secrets Manager secret the institution
 * config names (delivery.auth.secretArn; lib/delivery.ts grants read on exactly that secret).
 * SecretString JSON: {"username","password"} for basic, {"token"} for bearer.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import type { DicomwebCredentials } from './dicomweb-delivery-target';

const basic = z.object({ username: z.string().min(1), password: z.string().min(1) });
const bearer = z.object({ token: z.string().min(1) });

export class SecretFormatError extends Error {
  override readonly name = 'SecretFormatError';
}

export async function loadDicomwebCredentials(client: SecretsManagerClient, auth: { type: 'basic' | 'bearer'; secretArn: string }): Promise<DicomwebCredentials> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: auth.secretArn }));
  let json: unknown;
  try {
    json = JSON.parse(SecretString ?? '');
  } catch {
    // Never the value itself in an error: it is a credential.
    throw new SecretFormatError(`the delivery secret is not JSON (expected ${auth.type === 'basic' ? '{"username","password"}' : '{"token"}'})`);
  }
  if (auth.type === 'basic') {
    const parsed = basic.safeParse(json);
    if (!parsed.success) throw new SecretFormatError('the delivery secret needs "username" and "password" for basic auth');
    return { type: 'basic', ...parsed.data };
  }
  const parsed = bearer.safeParse(json);
  if (!parsed.success) throw new SecretFormatError('the delivery secret needs "token" for bearer auth');
  return { type: 'bearer', token: parsed.data.token };
}
