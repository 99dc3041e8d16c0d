/**
 * AWS_MSK_IAM against the local brokers' SASL_SSL listeners, whose OAUTHBEARER check accepts the
 * tokens MSK's IAM listener accepts (scripts/kafka/iam/MskIamTokenValidator.java): credentials are
 * issued here, as a role's session credentials, by writing them where the brokers' check reads them.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** Ends a session: the brokers refuse its access key from now on (a line with no secret overrides the first). */
export function endIamSession(credentials: IamCredentials): void {
  appendFileSync(MSK_IAM_CREDENTIALS_FILE, `${credentials.AWS_ACCESS_KEY_ID}=\n`);
}

/** A function's variables for AWS_MSK_IAM on the SASL_SSL listener, signing with `credentials`. */
export function iamEnv(credentials: IamCredentials, connection?: BrokerConnection): Record<string, string> {
  const { KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, ...listener } = envFor('SASL_SSL', connection);
  return { ...listener, KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM', AWS_REGION: MSK_IAM_REGION, ...credentials };
}

export interface CredentialsEndpoint {
  /** For AWS_CONTAINER_CREDENTIALS_FULL_URI. */
  url: string;
  /** When the first session served expires (ms since the epoch). */
  firstExpiry: number;
  /** Serves `credentials` from now on, as the role's endpoint does when it rotates them. */
  serve(credentials: IamCredentials & { expiresAt: number }): void;
  /** The access keys answered so far, in order. */
  served(): string[];
  close(): Promise<void>;
}

/**
 * A container credentials endpoint on loopback (what AWS_CONTAINER_CREDENTIALS_FULL_URI names, as
 * for ECS, SnapStart and Lambda Managed Instances): the AWS SDK asks it for the role's credentials.
 */
export async function credentialsEndpoint(first: IamCredentials & { expiresAt: number }): Promise<CredentialsEndpoint> {
  let current = first;
  const served: string[] = [];
  const server = createServer((request, response) => {
    if (request.headers.authorization !== 'local-test-token') {
      response.writeHead(403).end();
      return;
    }
    served.push(current.AWS_ACCESS_KEY_ID);
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        AccessKeyId: current.AWS_ACCESS_KEY_ID,
        SecretAccessKey: current.AWS_SECRET_ACCESS_KEY,
        Token: current.AWS_SESSION_TOKEN,
        Expiration: new Date(current.expiresAt).toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/role-credentials`,
    firstExpiry: first.expiresAt,
    serve: (credentials) => {
      current = credentials;
    },
    served: () => [...served],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
