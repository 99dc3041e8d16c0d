/**
 * The key formats the certificate checks accept are the ones the binding accepts: each one is
 * checked by validateCertificates and then used for a real mutual-TLS connection.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../../scripts/kafka/certs.js';
import { readConnection } from '../../scripts/kafka/connection.js';
import { loadConfig } from '../../src/config/load.js';
import { validateCertificates } from '../../src/ssl/certificates.js';
import { clientFor, envFor } from '../support/env.js';

const PASSWORD = 'key-formats-pass';
let dir: string;
const keys: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lambda-kafka-keys-'));
  const key = readConnection().listeners.SSL.keyFile as string;
  keys.pkcs8 = key;
  keys.pkcs1 = join(dir, 'pkcs1.pem');
  openssl(['rsa', '-in', key, '-traditional', '-out', keys.pkcs1], dir);
  keys.encryptedPkcs8 = join(dir, 'encrypted-pkcs8.pem');
  openssl(
    ['pkcs8', '-topk8', '-in', key, '-out', keys.encryptedPkcs8, '-v2', 'aes-256-cbc', '-passout', `pass:${PASSWORD}`],
    dir,
  );
  keys.encryptedPkcs1 = join(dir, 'encrypted-pkcs1.pem');
  openssl(
    ['rsa', '-in', key, '-traditional', '-aes256', '-passout', `pass:${PASSWORD}`, '-out', keys.encryptedPkcs1],
    dir,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['PKCS#8', 'pkcs8', false],
  ['PKCS#1', 'pkcs1', false],
  ['encrypted PKCS#8', 'encryptedPkcs8', true],
  ['encrypted PKCS#1', 'encryptedPkcs1', true],
])('a %s client key', (_, name, encrypted) => {
  const env = (): Record<string, string> => ({
    ...envFor('SSL'),
    KAFKA_SSL_KEYFILE: keys[name] as string,
    ...(encrypted && { KAFKA_SSL_KEY_PASSWORD: PASSWORD }),
  });

  it('passes the certificate checks and connects to the mutual-TLS listener', async () => {
    await expect(validateCertificates(loadConfig(env()).ssl)).resolves.toBeDefined();
    const { client: admin } = clientFor('admin', env());
    await admin.connect();
    await expect(admin.listTopics({ timeout: 10_000 })).resolves.toBeInstanceOf(Array);
    await admin.disconnect();
  });

  it('works inline (KAFKA_SSL_*_PEM) as well as from files', async () => {
    const files = env();
    const inline = {
      ...files,
      KAFKA_SSL_CAFILE: '',
      KAFKA_SSL_CA_PEM: readFileSync(files.KAFKA_SSL_CAFILE as string, 'utf8'),
      KAFKA_SSL_CERTFILE: '',
      KAFKA_SSL_CERT_PEM: readFileSync(files.KAFKA_SSL_CERTFILE as string, 'utf8'),
      KAFKA_SSL_KEYFILE: '',
      KAFKA_SSL_KEY_PEM: readFileSync(keys[name] as string, 'utf8'),
    };
    await expect(validateCertificates(loadConfig(inline).ssl)).resolves.toBeDefined();
    const { client: admin } = clientFor('admin', inline);
    await admin.connect();
    await expect(admin.listTopics({ timeout: 10_000 })).resolves.toBeInstanceOf(Array);
    await admin.disconnect();
  });
});
