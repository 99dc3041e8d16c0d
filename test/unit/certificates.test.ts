import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { loadConfig } from '../../src/config/load.js';
import { CertificateError } from '../../src/errors/errors.js';
import type { Log } from '../../src/observability/log.js';
import { validateCertificates } from '../../src/ssl/certificates.js';
import { CertificateValidator } from '../../src/ssl/validator.js';
import { createTestPki, KEY_PASSWORD, keyMaterialLines, type TestPki } from '../support/pki.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => {
  rmSync(pki.dir, { recursive: true, force: true });
});

function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string, extra?: object) =>
    lines.push(`${level} ${message} ${extra ? JSON.stringify(extra) : ''}`);
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

function sslEnv(overrides: Record<string, string>): Record<string, string> {
  return {
    KAFKA_BOOTSTRAP_SERVERS: 'localhost:9093',
    KAFKA_USE_SSL: 'true',
    KAFKA_SSL_CAFILE: pki.caFile,
    KAFKA_SSL_CERTFILE: pki.certFile,
    KAFKA_SSL_KEYFILE: pki.keyFile,
    ...overrides,
  };
}

async function check(env: Record<string, string>) {
  const log = recordingLog();
  try {
    const report = await validateCertificates(loadConfig(env).ssl, { log });
    return { report, error: undefined, log };
  } catch (error) {
    return { report: undefined, error: error as Error, log };
  }
}

function expectNoKeyMaterial(output: string): void {
  for (const file of pki.keyFiles) {
    for (const line of keyMaterialLines(file)) expect(output).not.toContain(line);
  }
  expect(output).not.toContain(KEY_PASSWORD);
}

describe('valid certificates', () => {
  it("pass with the seed's log lines", async () => {
    // Act
    const { report, error, log } = await check(sslEnv({}));

    // Assess
    expect(error).toBeUndefined();
    expect(log.lines).toEqual([
      expect.stringContaining(`info ✓ CA certificate file exists: ${pki.caFile}`),
      expect.stringContaining(`info ✓ Client certificate file exists: ${pki.certFile}`),
      expect.stringContaining(`info ✓ Private key file exists: ${pki.keyFile}`),
      expect.stringContaining('info SSL certificate validation completed successfully'),
    ]);
    expect(report?.certificates.map((c) => c.subject)).toEqual(['CN=Test CA', 'CN=client']);
  });

  it.each([
    ['PKCS#1 key', () => ({ KAFKA_SSL_KEYFILE: pki.pkcs1KeyFile })],
    [
      'encrypted PKCS#8 key with its password',
      () => ({ KAFKA_SSL_KEYFILE: pki.encryptedPkcs8KeyFile, KAFKA_SSL_KEY_PASSWORD: KEY_PASSWORD }),
    ],
    [
      'encrypted PKCS#1 key with its password',
      () => ({ KAFKA_SSL_KEYFILE: pki.encryptedPkcs1KeyFile, KAFKA_SSL_KEY_PASSWORD: KEY_PASSWORD }),
    ],
    [
      'inline PEM',
      () => ({
        KAFKA_SSL_CAFILE: '',
        KAFKA_SSL_CA_PEM: readFileSync(pki.caFile, 'utf8'),
        KAFKA_SSL_CERTFILE: '',
        KAFKA_SSL_CERT_PEM: readFileSync(pki.certFile, 'utf8'),
        KAFKA_SSL_KEYFILE: '',
        KAFKA_SSL_KEY_PEM: readFileSync(pki.keyFile, 'utf8'),
      }),
    ],
  ])('pass with a %s', async (_, overrides) => {
    const { error } = await check(sslEnv(overrides()));
    expect(error).toBeUndefined();
  });

  it('pass with a client certificate from another CA than KAFKA_SSL_CAFILE (split CA), noting both issuers', async () => {
    // Prepare: the broker may trust client certificates from one CA and present a certificate from another
    const env = sslEnv({ KAFKA_SSL_CERTFILE: pki.foreignCertFile, KAFKA_SSL_KEYFILE: pki.foreignKeyFile });

    // Act
    const { error, report, log } = await check(env);

    // Assess: a note in the log, not a problem and not a health warning
    expect(error).toBeUndefined();
    expect(report?.warnings).toEqual([]);
    expect(report?.notes).toEqual([
      `Client certificate (${pki.foreignCertFile}) is issued by CN=Some Other CA, not by the CA in ${pki.caFile} (CN=Test CA): ` +
        'fine when the broker trusts client certificates from CN=Some Other CA (a split-CA setup); otherwise the broker will refuse it',
    ]);
    expect(log.lines.join('\n')).toMatch(/warn Client certificate .* is issued by CN=Some Other CA/);
  });

  it('warn when a certificate expires within KAFKA_SSL_EXPIRY_WARNING_DAYS', async () => {
    const { error, report, log } = await check(
      sslEnv({ KAFKA_SSL_CERTFILE: pki.expiringSoonCertFile, KAFKA_SSL_KEYFILE: pki.expiringSoonKeyFile }),
    );
    expect(error).toBeUndefined();
    expect(report?.warnings).toEqual([
      expect.stringMatching(/^Client certificate \(.*expiring-soon\.pem\) expires on .* in 4 days$/),
    ]);
    expect(log.lines.join('\n')).toMatch(/warn Certificate expires soon/);
  });
});

// Each fault: the variables to set, the file the message must name, and what the message must say.
const FAULTS: [string, () => Record<string, string>, () => string, RegExp][] = [
  [
    'missing file',
    () => ({ KAFKA_SSL_CERTFILE: pki.missingFile }),
    () => pki.missingFile,
    /Client certificate file does not exist \(.*\): check the path in KAFKA_SSL_CERTFILE/,
  ],
  [
    'a directory instead of a file',
    () => ({ KAFKA_SSL_CAFILE: pki.dir }),
    () => pki.dir,
    /CA certificate path is a directory \(.*\): point KAFKA_SSL_CAFILE at the PEM file/,
  ],
  [
    'not PEM at all',
    () => ({ KAFKA_SSL_CAFILE: pki.notPemFile }),
    () => pki.notPemFile,
    /not a PEM certificate .*openssl x509 -inform der/,
  ],
  [
    'a DER certificate',
    () => ({ KAFKA_SSL_CERTFILE: pki.derCertFile }),
    () => pki.derCertFile,
    /not a PEM certificate/,
  ],
  [
    'an expired certificate',
    () => ({ KAFKA_SSL_CERTFILE: pki.expiredCertFile, KAFKA_SSL_KEYFILE: pki.expiredKeyFile }),
    () => pki.expiredCertFile,
    /Client certificate expired on \d{4}-.*: renew it/,
  ],
  [
    'a certificate not valid yet',
    () => ({ KAFKA_SSL_CERTFILE: pki.notYetValidCertFile, KAFKA_SSL_KEYFILE: pki.notYetValidKeyFile }),
    () => pki.notYetValidCertFile,
    /Client certificate is not valid yet \(valid from .*\): check the issuing machine's clock/,
  ],
  [
    'the key of another certificate',
    () => ({ KAFKA_SSL_KEYFILE: pki.foreignKeyFile }),
    () => pki.foreignKeyFile,
    /Private key does not belong to the client certificate .*: deploy the key that was generated with this certificate/,
  ],
  [
    'a truncated certificate',
    () => ({ KAFKA_SSL_CERTFILE: pki.truncatedCertFile }),
    () => pki.truncatedCertFile,
    /Client certificate is truncated: its -----BEGIN CERTIFICATE----- has no -----END CERTIFICATE----- \(\d+ bytes\) \(.*truncated\.pem\): copy the whole certificate into KAFKA_SSL_CERTFILE again/,
  ],
  [
    'a truncated key',
    () => ({ KAFKA_SSL_KEYFILE: pki.truncatedKeyFile }),
    () => pki.truncatedKeyFile,
    /Private key is truncated: its -----BEGIN PRIVATE KEY----- has no -----END PRIVATE KEY----- \(\d+ bytes\) \(.*truncated-key\.pem\): copy the whole key into KAFKA_SSL_KEYFILE again/,
  ],
  [
    'an encrypted PKCS#8 key without password',
    () => ({ KAFKA_SSL_KEYFILE: pki.encryptedPkcs8KeyFile }),
    () => pki.encryptedPkcs8KeyFile,
    /Private key is encrypted and no password is configured .*: set KAFKA_SSL_KEY_PASSWORD/,
  ],
  [
    'an encrypted PKCS#1 key without password',
    () => ({ KAFKA_SSL_KEYFILE: pki.encryptedPkcs1KeyFile }),
    () => pki.encryptedPkcs1KeyFile,
    /Private key is encrypted and no password is configured/,
  ],
  [
    'an encrypted key with the wrong password',
    () => ({ KAFKA_SSL_KEYFILE: pki.encryptedPkcs8KeyFile, KAFKA_SSL_KEY_PASSWORD: 'wrong-password' }),
    () => pki.encryptedPkcs8KeyFile,
    /Private key cannot be decrypted with KAFKA_SSL_KEY_PASSWORD/,
  ],
  [
    'an inline encrypted key without password',
    () => ({ KAFKA_SSL_KEYFILE: '', KAFKA_SSL_KEY_PEM: readFileSync(pki.encryptedPkcs8KeyFile, 'utf8') }),
    () => 'inline KAFKA_SSL_KEY_PEM',
    /Private key is encrypted and no password is configured \(inline KAFKA_SSL_KEY_PEM\)/,
  ],
  [
    'an inline key of another certificate',
    () => ({ KAFKA_SSL_KEYFILE: '', KAFKA_SSL_KEY_PEM: readFileSync(pki.foreignKeyFile, 'utf8') }),
    () => 'inline KAFKA_SSL_KEY_PEM',
    /Private key does not belong to the client certificate/,
  ],
];

describe('certificate faults', () => {
  it.each(FAULTS)(
    '%s is fatal, names the file and the fix, and prints no key material',
    async (_, overrides, file, says) => {
      // Act
      const { error, log } = await check(sslEnv(overrides()));

      // Assess
      expect(error).toBeInstanceOf(CertificateError);
      const message = (error as CertificateError).message;
      expect(message).toContain(file());
      expect(message).toMatch(says);
      expect(message).toMatch(/Please verify:\n {2}1\. CA certificate is valid: /);
      expectNoKeyMaterial([message, ...log.lines, JSON.stringify(error)].join('\n'));
    },
  );

  it('a wrong password that decrypts to garbage (about one in 256 passes the padding check) is named as the password', async () => {
    // Prepare: the first wrong password whose failure is not OpenSSL's bad decrypt
    const pem = readFileSync(pki.encryptedPkcs8KeyFile, 'utf8');
    let lucky: { password: string; code: string } | undefined;
    for (let i = 0; i < 5000 && lucky === undefined; i++) {
      try {
        createPrivateKey({ key: pem, format: 'pem', passphrase: `wrong-${i}` });
      } catch (error) {
        const code = String((error as { code?: string }).code);
        if (!/DECRYPT/i.test(code)) lucky = { password: `wrong-${i}`, code };
      }
    }
    expect(lucky).toBeDefined();

    // Act
    const { error } = await check(
      sslEnv({ KAFKA_SSL_KEYFILE: pki.encryptedPkcs8KeyFile, KAFKA_SSL_KEY_PASSWORD: lucky?.password ?? '' }),
    );

    // Assess
    expect((error as CertificateError).message).toContain(
      `Private key cannot be decrypted with KAFKA_SSL_KEY_PASSWORD (${lucky?.code})`,
    );
  });

  it('reports every fault at once', async () => {
    const { error } = await check(
      sslEnv({ KAFKA_SSL_CAFILE: pki.notPemFile, KAFKA_SSL_CERTFILE: pki.expiredCertFile }),
    );
    expect((error as CertificateError).problems.map((p) => p.variable)).toEqual([
      'KAFKA_SSL_CAFILE',
      'KAFKA_SSL_CERTFILE',
      'KAFKA_SSL_KEYFILE',
    ]);
  });

  it('an unreadable file is fatal and names the file (checked as an unprivileged user)', async () => {
    // Prepare: root reads any file, so the check runs as `nobody` when the tests run as root
    const env = sslEnv({ KAFKA_SSL_KEYFILE: pki.unreadableKeyFile });
    const asRoot = process.getuid?.() === 0;

    // Act
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(REPO_ROOT, 'test/support/validate-certificates-cli.ts'), JSON.stringify(env)],
        { cwd: REPO_ROOT, ...(asRoot && { uid: 65534, gid: 65534 }), env: { ...process.env, HOME: pki.dir } },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      );
    });

    // Assess
    const result = JSON.parse(output) as { ok: boolean; name: string; message: string };
    expect(result).toMatchObject({ ok: false, name: 'CertificateError' });
    expect(result.message).toContain(`Private key file is not readable (${pki.unreadableKeyFile}): make it readable`);
    expectNoKeyMaterial(result.message);
  });
});

describe('CertificateValidator', () => {
  it('checks once per cold start, and again when a file changes (rotation without redeploy)', async () => {
    // Prepare
    const rotating = join(pki.dir, 'rotating.pem');
    const rotatingKey = join(pki.dir, 'rotating-key.pem');
    copyFileSync(pki.certFile, rotating);
    copyFileSync(pki.keyFile, rotatingKey);
    const ssl = loadConfig(sslEnv({ KAFKA_SSL_CERTFILE: rotating, KAFKA_SSL_KEYFILE: rotatingKey })).ssl;
    const validator = new CertificateValidator();

    // Act / Assess
    expect((await validator.validate(ssl)).cached).toBe(false);
    expect((await validator.validate(ssl)).cached).toBe(true);
    copyFileSync(pki.expiredCertFile, rotating);
    copyFileSync(pki.expiredKeyFile, rotatingKey);
    await expect(validator.validate(ssl)).rejects.toThrow(/expired/);
    copyFileSync(pki.expiringSoonCertFile, rotating);
    copyFileSync(pki.expiringSoonKeyFile, rotatingKey);
    expect(await validator.validate(ssl)).toMatchObject({ cached: false, report: { warnings: [expect.any(String)] } });
  });

  it('checks again once the earliest certificate has expired', async () => {
    const ssl = loadConfig(
      sslEnv({ KAFKA_SSL_CERTFILE: pki.expiringSoonCertFile, KAFKA_SSL_KEYFILE: pki.expiringSoonKeyFile }),
    ).ssl;
    const validator = new CertificateValidator();
    await validator.validate(ssl);
    await expect(validator.validate(ssl, { now: Date.now() + 6 * 86_400_000 })).rejects.toThrow(/expired/);
  });
});
