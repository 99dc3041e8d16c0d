/**
 * AWS_MSK_IAM against the local brokers' SASL_SSL listeners, whose OAUTHBEARER check accepts the
 * tokens MSK's IAM listener accepts (scripts/kafka/iam/MskIamTokenValidator.java): credentials are
 * issued here, as a role's session credentials, by writing them where the brokers' check reads them.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BrokerConnection } from '../../scripts/kafka/connection.js';
import { MSK_IAM_CREDENTIALS_FILE, MSK_IAM_REGION } from '../../scripts/kafka/layout.js';
import { envFor } from './env.js';

export interface IamCredentials {
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_SESSION_TOKEN: string;
}

/** New session credentials the brokers accept from now on. */
export function issueIamCredentials(): IamCredentials {
  const credentials = {
    AWS_ACCESS_KEY_ID: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    AWS_SECRET_ACCESS_KEY: randomBytes(30).toString('base64'),
    AWS_SESSION_TOKEN: randomBytes(48).toString('base64'),
  };
  mkdirSync(dirname(MSK_IAM_CREDENTIALS_FILE), { recursive: true });
  appendFileSync(MSK_IAM_CREDENTIALS_FILE, `${credentials.AWS_ACCESS_KEY_ID}=${credentials.AWS_SECRET_ACCESS_KEY}\n`);
  return credentials;
}

/** A function's variables for AWS_MSK_IAM on the SASL_SSL listener, signing with `credentials`. */
export function iamEnv(credentials: IamCredentials, connection?: BrokerConnection): Record<string, string> {
  const { KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, ...listener } = envFor('SASL_SSL', connection);
  return { ...listener, KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM', AWS_REGION: MSK_IAM_REGION, ...credentials };
}
