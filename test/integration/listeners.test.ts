/**
 * The local broker's three client listeners, exercised with the binding and read back with kcat.
 * These fail if the broker refuses the right client or accepts the wrong one.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { CLIENT_LISTENERS, readConnection } from '../../scripts/kafka/connection.js';
import {
  brokerLogMark,
  consumeWithBinding,
  createTopic,
  listenerConfig,
  type RdKafkaConfig,
  uniqueName,
} from '../support/kafka.js';
import { kcat, kcatArgs, readWithKcat } from '../support/kcat.js';

async function listTopics(config: RdKafkaConfig): Promise<string[]> {
  const admin = new KafkaJS.Kafka({}).admin(config);
  await admin.connect();
  try {
    return await admin.listTopics({ timeout: 4000 });
  } finally {
    await admin.disconnect();
  }
}

describe.each(CLIENT_LISTENERS)('the %s listener', (listener) => {
  it('round-trips messages with the binding, and kcat reads back the same keys, values and headers', async () => {
    const topic = uniqueName(`roundtrip-${listener.toLowerCase().replace('_', '-')}`);
    await createTopic(topic);
    const config = listenerConfig(listener);
    const sent = [0, 1, 2].map((i) => ({
      key: `key-${i}`,
      value: `value ${i} via ${listener}`,
      headers: { 'x-listener': listener, 'x-index': String(i) },
    }));

    const producer = new KafkaJS.Kafka({}).producer({ ...config, 'enable.idempotence': true, acks: -1 });
    await producer.connect();
    // send() rewrites the message objects it is given (values to Buffers, headers to arrays): give it copies.
    const reports = await producer.send({ topic, messages: structuredClone(sent) });
    await producer.disconnect();
    expect(reports.map((report) => report.errorCode)).toEqual([0]);

    const received = await consumeWithBinding(config, topic, sent.length);
    expect(received.map(({ key, value, headers }) => ({ key, value, headers }))).toEqual(sent);

    const viaKcat = await readWithKcat(listener, topic);
    expect(viaKcat.map(({ key, payload, headers }) => ({ key, value: payload, headers }))).toEqual(sent);
    expect(viaKcat.map((message) => message.offset)).toEqual([0, 1, 2]);
  });

  it('answers `kcat -L` with the connection details from .kafka/connection.json', async () => {
    const result = await kcat([...kcatArgs(listener), '-L', '-m', '10']);
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/1 brokers:\s+broker 1 at 127\.0\.0\.1:\d+/);
  });
});

describe('the broker refuses the wrong client', () => {
  it('refuses a client without a certificate on the mutual-TLS listener', async () => {
    const {
      'ssl.certificate.location': _cert,
      'ssl.key.location': _key,
      ...withoutCertificate
    } = listenerConfig('SSL');
    const log = brokerLogMark();
    await expect(listTopics(withoutCertificate)).rejects.toMatchObject({ code: KafkaJS.ErrorCodes.ERR__TRANSPORT });
    const sslPort = readConnection().ports.SSL;
    expect(log.linesSince().join('\n')).toMatch(
      new RegExp(`Failed authentication .*127\\.0\\.0\\.1:${sslPort}-.*SSL handshake failed`),
    );

    const ssl = readConnection().listeners.SSL;
    const { code, stderr } = await kcat([
      ...['-b', ssl.bootstrapServers, '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${ssl.caFile}`],
      ...['-L', '-m', '5'],
    ]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/certificate/i);
  });

  it('accepts the same client with its certificate', async () => {
    await expect(listTopics(listenerConfig('SSL'))).resolves.toBeInstanceOf(Array);
  });

  it('refuses a wrong SCRAM password on the SASL_SSL listener, and the broker says why', async () => {
    const config = { ...listenerConfig('SASL_SSL'), 'sasl.password': 'not-the-password' };
    const log = brokerLogMark();
    await expect(listTopics(config)).rejects.toBeInstanceOf(Error);
    expect(log.linesSince().join('\n')).toMatch(
      /Failed authentication .* due to invalid credentials with SASL mechanism SCRAM-SHA-512/,
    );
  });

  it('refuses a wrong SCRAM password for kcat too', async () => {
    const args = kcatArgs('SASL_SSL').map((arg) => (arg.startsWith('sasl.password=') ? 'sasl.password=wrong' : arg));
    const { code, stderr } = await kcat([...args, '-L', '-m', '5']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/Authentication failed/);
  });
});
