/**
 * The audit trail over its adapters, for every composition root (AWS, local mode, tests): records
 * in the one table, client addresses keyed by the institution's secret (Secrets Manager on AWS,
 * a key derived from the admin token locally).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoAuditLog } from '../adapters/dynamo-audit-log';
import { DynamoSessionStore } from '../adapters/dynamo-session-store';
import { HmacClientAddressHasher } from '../adapters/hmac-client-address-hasher';
import { SystemClock } from '../adapters/node-clock';
import { Sha256SecretHasher } from '../adapters/node-secret-hasher';
import { secretsManagerKey } from '../adapters/secrets-manager-key';
import { makeAuditTrail, makeReadAuditTrail, type AuditTrail, type ReadAuditTrail } from '../core/audit';
import type { Clock, Log, Metrics } from '../core/ports';
import type { AwsClients } from './aws-clients';
import type { AppConfig } from './config';
import { ConfigError } from './config';

function addressKey(config: AppConfig): () => Promise<string> {
  if (config.localClientAddressKey) {
    const key = config.localClientAddressKey;
    return async () => key;
  }
  if (config.clientAddressKeySecretArn) return secretsManagerKey(new SecretsManagerClient({ region: config.region }), config.clientAddressKeySecretArn);
  // Functions that never see a client (inspector, delivery) have no key; asking for one is a wiring bug.
  return () => Promise.reject(new ConfigError(['CLIENT_ADDRESS_KEY_SECRET_ARN: required to hash client addresses']));
}

export function createAuditDeps(config: AppConfig, clients: Pick<AwsClients, 'dynamo'>, options: { logger: Log; metrics: Pick<Metrics, 'count'>; clock?: Clock }): { audit: AuditTrail; readAuditTrail: ReadAuditTrail } {
  const log = new DynamoAuditLog(clients.dynamo, config.tableName, config.institution.id, config.institution.retention.auditDays);
  return {
    audit: makeAuditTrail({
      log,
      sessions: new DynamoSessionStore(clients.dynamo, config.tableName),
      addresses: new HmacClientAddressHasher(addressKey(config)),
      hasher: new Sha256SecretHasher(),
      clock: options.clock ?? new SystemClock(),
      logger: options.logger,
      metrics: options.metrics,
    }),
    readAuditTrail: makeReadAuditTrail({ log }),
  };
}
