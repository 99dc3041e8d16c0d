/** The configuration table (docs/configuration.md) says what the code does: same variables, defaults and librdkafka properties. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { type ClientType, librdkafkaProperties } from '../../src/config/librdkafka.js';
import { loadConfig } from '../../src/config/load.js';
import { VARIABLES } from '../../src/config/variables.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----';
const BASE = { KAFKA_BOOTSTRAP_SERVERS: 'b:9092', KAFKA_USE_SSL: 'true', KAFKA_CONSUMER_GROUP_ID: 'g' };
const ENVIRONMENTS = [
  { ...BASE, KAFKA_SSL_CAFILE: '/ca', KAFKA_SSL_CERTFILE: '/c', KAFKA_SSL_KEYFILE: '/k', KAFKA_SSL_KEY_PASSWORD: 'p' },
  { ...BASE, KAFKA_SSL_CA_PEM: PEM, KAFKA_SSL_CERT_PEM: PEM, KAFKA_SSL_KEY_PEM: KEY },
  { ...BASE, KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' },
];
const LETTERS: Record<string, ClientType> = { P: 'producer', C: 'consumer', A: 'admin' };

function tableRows(): Map<string, { defaultValue: string; librdkafka: string }> {
  const readme = readFileSync(join(REPO_ROOT, 'docs/configuration.md'), 'utf8');
  const rows = new Map<string, { defaultValue: string; librdkafka: string }>();
  for (const line of readme.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`(KAFKA_[A-Z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (name) rows.set(name, { defaultValue: cells[2] as string, librdkafka: cells[3] as string });
  }
  return rows;
}

describe('the configuration table', () => {
  const rows = tableRows();

  it('lists exactly the variables the code reads', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(VARIABLES).sort());
  });

  it.each(Object.entries(VARIABLES))('gives the default of %s', (name, variable) => {
    const documented = rows.get(name)?.defaultValue;
    if ('default' in variable) expect(documented).toBe(`\`${variable.default}\``);
    else expect(documented).not.toMatch(/^`/);
  });

  it.each([...tableRows().entries()].filter(([, row]) => row.librdkafka !== '—'))(
    'names the librdkafka property %s sets, for the right clients',
    (_, row) => {
      const [, property, letters] = /^`([a-z._]+)` \(([PCA ]+)\)$/.exec(row.librdkafka) ?? [];
      expect(property).toBeDefined();
      const clients = (letters as string).split(' ').map((letter) => LETTERS[letter] as ClientType);
      for (const client of ['producer', 'consumer', 'admin'] as const) {
        const set = ENVIRONMENTS.some((env) => (property as string) in librdkafkaProperties(loadConfig(env), client));
        expect(set, `${property} on the ${client}`).toBe(clients.includes(client));
      }
    },
  );
});
