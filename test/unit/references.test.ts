import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { rejectsCredentials, resolveReferences, SecretFetchError } from '../../src/config/references.js';
import { ConfigError } from '../../src/errors/errors.js';

const SCRAM = {
  KAFKA_BOOTSTRAP_SERVERS: 'b-1.example:9096',
  KAFKA_USE_SSL: 'true',
  KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
};

/** A store that answers from `values`, or fails with an SDK-like error named `fail`. */
function store(values: Record<string, string>, fail?: string) {
  const calls: { id: string; forceFetch: boolean }[] = [];
  const fetch = async (_store: string, id: string, options: { forceFetch: boolean }) => {
    calls.push({ id, forceFetch: options.forceFetch });
    if (fail) throw Object.assign(new Error('denied'), { name: fail });
    return values[id];
  };
  return { fetch, calls };
}

describe('resolveReferences', () => {
  it('takes "password" (and "username" when unset) from an MSK-style JSON secret', async () => {
    const { fetch } = store({ arn: JSON.stringify({ username: 'alice', password: 's3cret' }) });
    const resolved = await resolveReferences({ ...SCRAM, KAFKA_SASL_PASSWORD_SECRET: 'arn' }, { fetch });
    expect(resolved.overlay).toEqual({ KAFKA_SASL_PASSWORD: 's3cret', KAFKA_SASL_USERNAME: 'alice' });
    expect(resolved.values).toEqual(['s3cret']);
  });

  it('keeps a KAFKA_SASL_USERNAME that is set, reads another key when told, and a plain secret whole', async () => {
    const { fetch } = store({ json: JSON.stringify({ username: 'alice', pw: 'p1' }), plain: 'p2' });
    const keyed = await resolveReferences(
      {
        ...SCRAM,
        KAFKA_SASL_USERNAME: 'bob',
        KAFKA_SASL_PASSWORD_SECRET: 'json',
        KAFKA_SASL_PASSWORD_SECRET_KEY: 'pw',
      },
      { fetch },
    );
    const plain = await resolveReferences({ ...SCRAM, KAFKA_SASL_PASSWORD_SECRET: 'plain' }, { fetch });
    expect(keyed.overlay).toEqual({ KAFKA_SASL_PASSWORD: 'p1' });
    expect(plain.overlay).toEqual({ KAFKA_SASL_PASSWORD: 'p2' });
  });

  it('reads SSM parameters for the key PEM and its password, bypassing the cache when forced', async () => {
    const { fetch, calls } = store({ '/k/pem': 'PEM', '/k/pw': 'kpw' });
    const env = { ...SCRAM, KAFKA_SSL_KEY_PEM_PARAMETER: '/k/pem', KAFKA_SSL_KEY_PASSWORD_PARAMETER: '/k/pw' };
    const resolved = await resolveReferences(env, { fetch, forceFetch: true });
    expect(resolved.overlay).toEqual({ KAFKA_SSL_KEY_PEM: 'PEM', KAFKA_SSL_KEY_PASSWORD: 'kpw' });
    expect(calls.every((c) => c.forceFetch)).toBe(true);
  });

  it.each([
    ['ResourceNotFoundException', ConfigError, /KAFKA_SASL_PASSWORD_SECRET: the secret "x" does not exist/],
    [
      'AccessDeniedException',
      ConfigError,
      /may not read the secret "x".*allow secretsmanager:GetSecretValue.*kms:Decrypt/,
    ],
    ['TimeoutError', SecretFetchError, /could not be fetched \(TimeoutError: denied\).*VPC endpoint/],
  ])('names the variable and the fix when the store answers %s', async (name, type, message) => {
    const { fetch } = store({}, name);
    const failed = resolveReferences({ ...SCRAM, KAFKA_SASL_PASSWORD_SECRET: 'x' }, { fetch });
    await expect(failed).rejects.toBeInstanceOf(type);
    await expect(failed).rejects.toThrow(message);
  });

  it('refuses a JSON secret without the key, listing the keys it has and never the values', async () => {
    const { fetch } = store({ x: JSON.stringify({ user: 'alice', secret: 'hidden-value' }) });
    const failed = resolveReferences({ ...SCRAM, KAFKA_SASL_PASSWORD_SECRET: 'x' }, { fetch });
    await expect(failed).rejects.toThrow(/without a non-empty string "password" \(keys: user, secret\)/);
    await expect(failed).rejects.not.toThrow(/hidden-value/);
  });
});

describe('loadConfig with references', () => {
  it('accepts a SCRAM mechanism with only the secret reference, as not yet resolved, and complete once fetched', () => {
    const env = { ...SCRAM, KAFKA_SASL_PASSWORD_SECRET: 'arn' };
    const pending = loadConfig(env);
    const resolved = loadConfig(env, { KAFKA_SASL_PASSWORD: 'pw', KAFKA_SASL_USERNAME: 'alice' });
    expect(pending.referencesResolved).toBe(false);
    expect(pending.sasl?.password).toBeUndefined();
    expect(resolved.referencesResolved).toBe(true);
    expect(resolved.sasl?.password?.reveal()).toBe('pw');
    expect(resolved.sasl?.username).toBe('alice');
  });

  it('refuses a reference and its plain variable together, and a secret that gave no user name', () => {
    expect(() => loadConfig({ ...SCRAM, KAFKA_SASL_PASSWORD_SECRET: 'arn', KAFKA_SASL_PASSWORD: 'pw' })).toThrow(
      /KAFKA_SASL_PASSWORD_SECRET and KAFKA_SASL_PASSWORD are both set/,
    );
    expect(() => loadConfig({ ...SCRAM, KAFKA_SASL_PASSWORD_SECRET: 'arn' }, { KAFKA_SASL_PASSWORD: 'pw' })).toThrow(
      /KAFKA_SASL_USERNAME: required .*has no "username"/,
    );
  });

  it('warns inside Lambda about a password in the environment, naming the reference to use', () => {
    const config = loadConfig({
      ...SCRAM,
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'pw',
      AWS_LAMBDA_FUNCTION_NAME: 'f',
    });
    expect(config.securityWarnings.join('\n')).toMatch(
      /KAFKA_SASL_PASSWORD is in the function's environment.*KAFKA_SASL_PASSWORD_SECRET/,
    );
    // Not a health problem: Kafka works all the same.
    expect(config.warnings).toEqual([]);
    expect(loadConfig({ ...SCRAM, KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'pw' }).securityWarnings).toEqual([]);
  });
});

describe('rejectsCredentials', () => {
  it('is true for refused SASL credentials and client certificates only', () => {
    expect(
      ['AUTHENTICATION', 'SASL_AUTHENTICATION_FAILED', 'CLIENT_CERTIFICATE_REFUSED'].map(rejectsCredentials),
    ).toEqual([true, true, true]);
    expect(['TRANSPORT', 'ALL_BROKERS_DOWN', 'SSL', 'BROKER_CERTIFICATE_REJECTED'].some(rejectsCredentials)).toBe(
      false,
    );
  });
});
