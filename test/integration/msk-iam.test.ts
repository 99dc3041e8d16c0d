/**
 * KAFKA_SASL_MECHANISM=AWS_MSK_IAM against the local broker's SASL_SSL listener, whose OAUTHBEARER
 * check accepts what MSK's IAM listener accepts (scripts/kafka/iam/MskIamTokenValidator.java): the
 * handlers authenticate with a token the signer makes from the role's credentials, and a token the
 * broker refuses fails with its cause named.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { DrainResult } from '../../src/consume/drain.js';
import type { HealthStatus } from '../../src/init/health.js';
import type { DirectResult } from '../../src/produce/produce.js';
import { credentialsEndpoint, endIamSession, iamEnv, issueIamCredentials } from '../support/iam.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { readWithKcat } from '../support/kcat.js';
import { emf, expectNoSecrets, handlerEnvironment, logLines, messages } from '../support/lambda.js';

describe('AWS_MSK_IAM against a broker that checks the signed token', () => {
  it('produce, consume and health authenticate with the role credentials', async () => {
    // Prepare
    const topic = uniqueName('iam');
    await createTopic(topic, 1);
    const credentials = issueIamCredentials();
    const env = {
      ...iamEnv(credentials),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('iam-group'),
    };
    const producer = await handlerEnvironment('handlers/produce.ts', env);
    const consumer = await handlerEnvironment('handlers/consume.ts', env);
    const health = await handlerEnvironment('handlers/health-check.ts', env);
    const keys = ['a', 'b', 'c'].map((k) => `${topic}-${k}`);

    // Act
    const sent = await producer.invoke<DirectResult>({ messages: keys.map((key) => ({ key, value: key })) }, 30_000);
    const drained = await consumer.invoke<DrainResult>({ idleMs: 1000 }, 30_000);
    const checked = await health.invoke<HealthStatus>({}, 30_000);

    // Assess
    expect(sent.ok, `${JSON.stringify(sent.error)}\n${sent.output.join('\n')}`).toBe(true);
    expect(sent.value?.results.every((r) => r.ok)).toBe(true);
    expect(drained.value?.processed, drained.output.join('\n')).toBe(3);
    expect(checked.value?.status, JSON.stringify(checked.value?.reasons)).toBe('healthy');
    for (const result of [sent, drained, checked]) {
      expect(logLines(result.output).filter((l) => l.level === 'WARN' || l.level === 'ERROR')).toEqual([]);
      expectNoSecrets(result.output, [credentials.AWS_SECRET_ACCESS_KEY, credentials.AWS_SESSION_TOKEN]);
    }
  }, 120_000);

  it.each<{ fault: string; change: Record<string, string>; cause: RegExp }>([
    {
      fault: 'a wrong secret key',
      change: { AWS_SECRET_ACCESS_KEY: 'not-the-secret-of-this-key-4f1c' },
      cause: /^MSK_IAM_TOKEN_REFUSED \(-169\): 127\.0\.0\.1:\d+ refused the AWS_MSK_IAM token: signature_mismatch/,
    },
    {
      fault: 'another region',
      change: { AWS_REGION: 'eu-west-1' },
      cause: /^MSK_IAM_TOKEN_REFUSED \(-169\): .*wrong_region: signed for host kafka\.eu-west-1\.amazonaws\.com/,
    },
    {
      fault: 'expired credentials',
      change: { AWS_CREDENTIAL_EXPIRATION: new Date(Date.now() - 60_000).toISOString() },
      cause: /^MSK_IAM_SIGNING_FAILED \(-169\): no token was signed: AWS_MSK_IAM: the role's credentials expired at /,
    },
  ])(
    '$fault fails the invocation at once with the cause named, and no secret printed',
    async ({ change, cause }) => {
      // Prepare
      const credentials = issueIamCredentials();
      const env: Record<string, string> = { ...iamEnv(credentials), ...change };
      env.KAFKA_TOPICS = uniqueName('iam-refused');
      const producer = await handlerEnvironment('handlers/produce.ts', env);

      // Act
      const result = await producer.invoke<DirectResult>({ messages: [{ key: 'k', value: 'v' }] }, 30_000);

      // Assess: not retried (a setting to fix), named, and the secret and session token never shown
      expect(result.ok).toBe(false);
      const [first, second] = (result.error?.message ?? '').split('\n');
      expect(first).toMatch(/^Producer initialization failed: /);
      expect(first?.replace('Producer initialization failed: ', '')).toMatch(cause);
      expect(second).toMatch(/^\(1 attempt in \d+ ms; stopped at once: retrying cannot fix this\)$/);
      expectNoSecrets(result.output, [credentials.AWS_SECRET_ACCESS_KEY, credentials.AWS_SESSION_TOKEN]);
      expect(JSON.stringify(result.error)).not.toContain(credentials.AWS_SESSION_TOKEN);
    },
    60_000,
  );

  it('an environment frozen for twice the token lifetime produces on its first invocation after the thaw with a renewed token', async () => {
    // Prepare: 10 s tokens; the emulated environment is frozen (SIGSTOP) between invocations, as Lambda's is
    const topic = uniqueName('iam-freeze');
    await createTopic(topic, 1);
    const env = { ...iamEnv(issueIamCredentials()), KAFKA_TOPICS: topic, KAFKA_MSK_IAM_TOKEN_LIFETIME: '10' };
    const producer = await handlerEnvironment('handlers/produce.ts', env);
    const send = (key: string) => producer.invoke<DirectResult>({ messages: [{ key, value: key }] }, 30_000);
    const before = await send('before');

    // Act: frozen for 20 s, past the token's expiry (and the broker's session, which ends with the token)
    await sleep(20_000);
    const thawed = await send('after');

    // Assess: delivered once, nothing at WARN or ERROR, no connection error counted. librdkafka's
    // threads resume at the thaw, before any JavaScript, and may reconnect with the token they hold:
    // the broker's refusal of that attempt is expected after a freeze, and logged as such at INFO.
    const lines = logLines(thawed.output);
    const refusals = lines.filter((l) => l.message.includes('expired_token'));
    // Which renewal ran first is a race: librdkafka's own callback, on its timer at the thaw, or ours,
    // at the invocation's start (then logged). Either way the invocation's requests carry a new token.
    const renewed = messages(thawed.output).filter((m) => m.startsWith('AWS_MSK_IAM token renewed after a freeze'));
    console.log(
      `after the thaw: ${thawed.durationMs.toFixed(0)} ms, ${refusals.length} refusal(s) of the old token, renewed by ${renewed.length > 0 ? 'the invocation' : "librdkafka's callback first"}`,
    );
    for (const line of refusals) console.log(`  ${line.level} ${line.message.slice(0, 200)}`);
    expect(before.value?.results[0]?.ok, before.output.join('\n')).toBe(true);
    expect(thawed.ok, JSON.stringify(thawed.error)).toBe(true);
    expect(thawed.value?.results[0]?.ok, thawed.output.join('\n')).toBe(true);
    for (const line of renewed) expect(line).toBe('AWS_MSK_IAM token renewed after a freeze, for 1 client(s)');
    expect(lines.filter((l) => l.level === 'WARN' || l.level === 'ERROR')).toEqual([]);
    for (const line of refusals) {
      expect(line.level).toBe('INFO');
      expect(line.message).toMatch(/\(expected after a freeze: the token expired while the process was frozen/);
    }
    const counted = emf(thawed.output).reduce((n, d) => n + (d.connection_errors_total ?? 0), 0);
    expect(counted).toBe(0);
    const read = await readWithKcat('PLAINTEXT', topic);
    expect(read.map((m) => m.key).sort()).toEqual(['after', 'before']);
  }, 90_000);

  it("signs with the credentials the role's endpoint serves at each token: a session rotated between invocations is used by the next one", async () => {
    // Prepare: credentials from a container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI,
    // where rotating credentials come from), not the environment: session A, expiring in 15 s
    const topic = uniqueName('iam-rotation');
    await createTopic(topic, 1);
    const [a, b] = [issueIamCredentials(), issueIamCredentials()];
    const endpoint = await credentialsEndpoint({ ...a, expiresAt: Date.now() + 15_000 });
    const env = {
      ...iamEnv(a),
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'local-test-token',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_CONFIG_FILE: '/nonexistent/config',
      KAFKA_TOPICS: topic,
    };
    try {
      const producer = await handlerEnvironment('handlers/produce.ts', env);
      const send = (key: string) => producer.invoke<DirectResult>({ messages: [{ key, value: key }] }, 30_000);
      const first = await send('with-a');

      // Act: the endpoint serves session B from now on; A ends at its expiry (the brokers refuse it
      // from then on, as STS would); the environment stays frozen past it
      endpoint.serve({ ...b, expiresAt: Date.now() + 3_600_000 });
      await sleep(Math.max(0, endpoint.firstExpiry - Date.now()) + 500);
      endIamSession(a);
      await sleep(4000);
      const second = await send('with-b');

      // Assess: both delivered, the second with a token signed by B (A's is refused by now), nothing
      // cached past A's session, nothing at WARN or ERROR
      expect(first.value?.results[0]?.ok, first.output.join('\n')).toBe(true);
      expect(second.ok, JSON.stringify(second.error)).toBe(true);
      expect(second.value?.results[0]?.ok, second.output.join('\n')).toBe(true);
      expect(endpoint.served()).toContain(b.AWS_ACCESS_KEY_ID);
      for (const result of [first, second]) {
        expect(logLines(result.output).filter((l) => l.level === 'WARN' || l.level === 'ERROR')).toEqual([]);
        expect(result.output.join('\n')).not.toContain('unknown_access_key');
        expectNoSecrets(result.output, [a.AWS_SECRET_ACCESS_KEY, a.AWS_SESSION_TOKEN, b.AWS_SECRET_ACCESS_KEY]);
      }
      const read = await readWithKcat('PLAINTEXT', topic);
      expect(read.map((m) => m.key).sort()).toEqual(['with-a', 'with-b']);
    } finally {
      await endpoint.close();
    }
  }, 90_000);

  it('a drain longer than the re-authentication interval (20 s) keeps reading across re-authentications', async () => {
    // Prepare
    const topic = uniqueName('iam-reauth');
    await createTopic(topic, 1);
    const env = {
      ...iamEnv(issueIamCredentials()),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('iam-reauth'),
    };
    const producer = await handlerEnvironment('handlers/produce.ts', env);
    const consumer = await handlerEnvironment('handlers/consume.ts', env);
    await consumer.invoke<DrainResult>({ idleMs: 500 }, 30_000);

    // Act: one drain of 30 s at most while a message is produced every second for 26 s
    const draining = consumer.invoke<DrainResult>({ idleMs: 5000, maxMessages: 26 }, 60_000);
    const sent: boolean[] = [];
    for (let i = 0; i < 26; i++) {
      const result = await producer.invoke<DirectResult>({ messages: [{ key: `m${i}`, value: 'v' }] }, 30_000);
      sent.push(result.value?.results[0]?.ok === true);
      await sleep(1000);
    }
    const drained = await draining;

    // Assess
    expect(sent.every(Boolean)).toBe(true);
    expect(drained.ok, JSON.stringify(drained.error)).toBe(true);
    expect(drained.durationMs).toBeGreaterThan(20_000);
    expect(drained.value?.processed, drained.output.join('\n')).toBe(26);
    const trouble = logLines(drained.output).filter((l) => l.level === 'WARN' || l.level === 'ERROR');
    expect(trouble.map((l) => l.message)).toEqual([]);
  }, 120_000);
});
