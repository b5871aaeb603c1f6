/** A secret key held in Secrets Manager (the audit trail's client address key), read when first needed. */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export function secretsManagerKey(client: SecretsManagerClient, secretArn: string): () => Promise<string> {
  return async () => {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!SecretString || SecretString.length < 32) throw Object.assign(new Error('the client address key secret is empty or too short'), { name: 'ClientAddressKeyMissing' });
    return SecretString;
  };
}
