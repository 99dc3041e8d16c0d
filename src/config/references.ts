/**
 * Secrets by reference: the function's environment names a Secrets Manager secret or an SSM
 * SecureString parameter, and the value is fetched at run time (Powertools Parameters, cached for
 * KAFKA_SECRETS_MAX_AGE), so it never sits in the function configuration and a rotated value is
 * picked up without a redeploy. The fetched values become the plain variables they stand for
 * (KAFKA_SASL_PASSWORD, KAFKA_SSL_KEY_PEM, KAFKA_SSL_KEY_PASSWORD), which loadConfig() validates as
 * usual. The AWS SDK is loaded on first use only: a function without references never pays for it.
 */
import { ConfigError } from '../errors/errors.js';
import type { Environment } from './load.js';
import type { VariableName } from './variables.js';

/**
 * A variable that names a Secrets Manager secret or an SSM SecureString parameter holding a secret.
 * @inline
 */
export type ReferenceName =
  | 'KAFKA_SASL_PASSWORD_SECRET'
  | 'KAFKA_SASL_PASSWORD_PARAMETER'
  | 'KAFKA_SSL_KEY_PEM_PARAMETER'
  | 'KAFKA_SSL_KEY_PASSWORD_PARAMETER';

interface Reference {
  store: 'secretsmanager' | 'ssm';
  /** The plain variable whose value it gives. */
  target: VariableName;
}

export const REFERENCES: Record<ReferenceName, Reference> = {
  KAFKA_SASL_PASSWORD_SECRET: { store: 'secretsmanager', target: 'KAFKA_SASL_PASSWORD' },
  KAFKA_SASL_PASSWORD_PARAMETER: { store: 'ssm', target: 'KAFKA_SASL_PASSWORD' },
  KAFKA_SSL_KEY_PEM_PARAMETER: { store: 'ssm', target: 'KAFKA_SSL_KEY_PEM' },
  KAFKA_SSL_KEY_PASSWORD_PARAMETER: { store: 'ssm', target: 'KAFKA_SSL_KEY_PASSWORD' },
};

/** The key read from a JSON secret when KAFKA_SASL_PASSWORD_SECRET_KEY is unset (MSK's `AmazonMSK_…` secrets). */
export const DEFAULT_SECRET_KEY = 'password';
const DEFAULT_MAX_AGE_SECONDS = 300;

/** The references set in `env`. */
export function referencesIn(env: Environment): ReferenceName[] {
  return (Object.keys(REFERENCES) as ReferenceName[]).filter((name) => env[name]?.trim());
}

/** What a fetch gave: the variables to lay over the environment, and every secret value in it (to redact). */
export interface Resolved {
  overlay: Record<string, string>;
  values: readonly string[];
}

/** A fetch that failed for a reason waiting may fix (the store was not reachable in time). */
export class SecretFetchError extends Error {
  readonly reference: ReferenceName;
  constructor(reference: ReferenceName, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretFetchError';
    this.reference = reference;
  }
}

type Fetch = (
  store: Reference['store'],
  id: string,
  options: { maxAge: number; forceFetch: boolean },
) => Promise<string | undefined>;

/** Powertools Parameters: one cached SDK client per store for the life of the environment. */
const powertoolsFetch: Fetch = async (store, id, options) => {
  if (store === 'secretsmanager') {
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    const value = await getSecret(id, options);
    return typeof value === 'string' ? value : value === undefined ? undefined : Buffer.from(value).toString('utf8');
  }
  const { getParameter } = await import('@aws-lambda-powertools/parameters/ssm');
  return getParameter(id, { ...options, decrypt: true });
};

function maxAgeSeconds(env: Environment): number {
  const raw = env.KAFKA_SECRETS_MAX_AGE?.trim();
  return raw ? Number(raw) : DEFAULT_MAX_AGE_SECONDS;
}

/** The SDK's error name, e.g. ResourceNotFoundException, AccessDeniedException. */
function sdkErrorName(error: unknown): string {
  const e = error as { name?: string; Code?: string; cause?: { name?: string } };
  return e?.cause?.name ?? e?.name ?? e?.Code ?? 'Error';
}

function failure(reference: ReferenceName, id: string, store: Reference['store'], error: unknown): Error {
  const name = sdkErrorName(error);
  const what = store === 'secretsmanager' ? `secret "${id}"` : `SSM parameter "${id}"`;
  const read = store === 'secretsmanager' ? 'secretsmanager:GetSecretValue' : 'ssm:GetParameter';
  if (/NotFound/.test(name)) {
    return new ConfigError([
      {
        variables: [reference],
        message: `${reference}: the ${what} does not exist (in the function's region, ${process.env.AWS_REGION ?? 'AWS_REGION unset'}): check the name or ARN`,
      },
    ]);
  }
  if (/AccessDenied|KMS|Unrecognized|InvalidSignature|ExpiredToken/.test(name)) {
    return new ConfigError([
      {
        variables: [reference],
        message: `${reference}: the function's role may not read the ${what} (${name}): allow ${read} on it, and kms:Decrypt on its KMS key when it is a customer managed key`,
      },
    ]);
  }
  if (/Decryption|InvalidParameter|Validation/.test(name)) {
    return new ConfigError([{ variables: [reference], message: `${reference}: the ${what} cannot be read (${name})` }]);
  }
  const detail = (error as Error)?.message ? `${name}: ${(error as Error).message.split('\n')[0]}` : name;
  return new SecretFetchError(
    reference,
    `${reference}: the ${what} could not be fetched (${detail}): a function in a VPC reaches ${store === 'secretsmanager' ? 'Secrets Manager' : 'SSM'} only through a VPC endpoint (com.amazonaws.<region>.${store}) or a NAT gateway`,
    { cause: error },
  );
}

/** The value a Secrets Manager secret gives for `target`: a JSON secret's key, or the whole string. */
function fromSecretString(
  reference: ReferenceName,
  text: string,
  key: string | undefined,
): { value: string; username?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    if (key) {
      throw new ConfigError([
        {
          variables: ['KAFKA_SASL_PASSWORD_SECRET_KEY'],
          message: `KAFKA_SASL_PASSWORD_SECRET_KEY is "${key}" but the secret of ${reference} is not JSON: unset the key to use the whole secret`,
        },
      ]);
    }
    return { value: text };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { value: text };
  const record = parsed as Record<string, unknown>;
  const wanted = key ?? DEFAULT_SECRET_KEY;
  const value = record[wanted];
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError([
      {
        variables: [reference, 'KAFKA_SASL_PASSWORD_SECRET_KEY'],
        message: `${reference}: the secret is JSON without a non-empty string "${wanted}" (keys: ${Object.keys(record).join(', ') || 'none'}): name the key with KAFKA_SASL_PASSWORD_SECRET_KEY`,
      },
    ]);
  }
  const username = typeof record.username === 'string' && record.username ? record.username : undefined;
  return { value, ...(username !== undefined && { username }) };
}

/**
 * Fetches every reference set in `env` (from the cache while younger than KAFKA_SECRETS_MAX_AGE,
 * unless `forceFetch`). A JSON secret also gives KAFKA_SASL_USERNAME when the environment sets none.
 */
export async function resolveReferences(
  env: Environment,
  options: { forceFetch?: boolean; fetch?: Fetch } = {},
): Promise<Resolved> {
  const fetch = options.fetch ?? powertoolsFetch;
  const overlay: Record<string, string> = {};
  const values: string[] = [];
  const maxAge = maxAgeSeconds(env);
  await Promise.all(
    referencesIn(env).map(async (reference) => {
      const { store, target } = REFERENCES[reference];
      const id = (env[reference] as string).trim();
      let text: string | undefined;
      try {
        text = await fetch(store, id, { maxAge, forceFetch: options.forceFetch === true });
      } catch (error) {
        throw failure(reference, id, store, error);
      }
      if (text === undefined || text === '') {
        throw new ConfigError([
          { variables: [reference], message: `${reference}: the ${store} value "${id}" is empty` },
        ]);
      }
      if (store === 'secretsmanager') {
        const key = env.KAFKA_SASL_PASSWORD_SECRET_KEY?.trim() || undefined;
        const { value, username } = fromSecretString(reference, text, key);
        overlay[target] = value;
        values.push(value);
        if (username !== undefined && !env.KAFKA_SASL_USERNAME?.trim()) overlay.KAFKA_SASL_USERNAME = username;
      } else {
        overlay[target] = text;
        values.push(text);
      }
    }),
  );
  return { overlay, values };
}

/** Causes a rotated credential explains: the broker refused the SASL password or the client certificate. */
const CREDENTIAL_CAUSES = new Set(['AUTHENTICATION', 'SASL_AUTHENTICATION_FAILED', 'CLIENT_CERTIFICATE_REFUSED']);

/** Whether a failure (its classification's name) may be a credential that was rotated under the function. */
export function rejectsCredentials(name: string): boolean {
  return CREDENTIAL_CAUSES.has(name);
}
