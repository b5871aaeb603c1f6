/**
 * ClientAddressKey: the secret that keys the audit trail's client address hashes (HMAC-SHA-256), so
 * an address can be matched across records but never recovered by hashing all 2^32 IPv4 addresses.
 * Only the API functions that see a client read it.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function';
import { acknowledge, customerManagedKey } from './defaults';

export class ClientAddressKey extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const key = customerManagedKey(this, 'Key', 'Encrypts the key of the audit trail\'s client address hashes');
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Upload Portal: HMAC key of client addresses in the audit trail',
      encryptionKey: key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      // Audit records outlive a redeployment; their hashes must stay comparable.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.secret, [
      ['AwsSolutions-SMG4', 'Not rotated: the audit trail matches a client across its records (years) by this key; a new key would make the same address look like a new client.'],
      ['HIPAA.Security-SecretsManagerRotationEnabled', 'Not rotated: the audit trail matches a client across its records (years) by this key; a new key would make the same address look like a new client.'],
    ]);
  }

  /** CLIENT_ADDRESS_KEY_SECRET_ARN plus read access to the secret (and its key). */
  bindReader(fn: AppFunction): void {
    fn.addEnvironment('CLIENT_ADDRESS_KEY_SECRET_ARN', this.secret.secretArn);
    this.secret.grantRead(fn.function);
  }
}
