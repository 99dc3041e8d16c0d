/**
 * Test PKI for the local broker: a CA, a broker certificate whose SAN covers
 * localhost and 127.0.0.1, and a client certificate + key, all PEM.
 * Generated once with the openssl CLI (node:crypto can parse X.509 but not issue it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertificatePaths {
  dir: string;
  caFile: string;
  caKeyFile: string;
  brokerCertFile: string;
  brokerKeyFile: string;
  /** Private key followed by the certificate: Kafka's `ssl.keystore.type=PEM` layout. */
  brokerKeystoreFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

export function certificatePaths(dir: string): CertificatePaths {
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    caKeyFile: join(dir, 'ca-key.pem'),
    brokerCertFile: join(dir, 'broker.pem'),
    brokerKeyFile: join(dir, 'broker-key.pem'),
    brokerKeystoreFile: join(dir, 'broker-keystore.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client-key.pem'),
  };
}

export function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args[0]} failed while generating test certificates in ${cwd}: ${stderr ?? error}`, {
      cause: error,
    });
  }
}

export interface IssueOptions {
  /** Directory holding ca.pem and ca-key.pem. */
  caDir: string;
  outCert: string;
  outKey: string;
  subject: string;
  /** e.g. `subjectAltName=DNS:localhost,IP:127.0.0.1` lines for the extension file. */
  extensions: string[];
  days?: number;
  /** Start date in openssl's YYYYMMDDHHMMSSZ form; with `endDate`, overrides `days`. */
  startDate?: string;
  endDate?: string;
  keyAlgorithm?: 'rsa' | 'ec';
}

/** Issues a leaf certificate signed by the CA in `caDir`; the key is unencrypted PKCS#8. */
export function issueCertificate(options: IssueOptions): void {
  const { caDir } = options;
  const csr = `${options.outCert}.csr`;
  const ext = `${options.outCert}.ext`;
  const keyArgs =
    options.keyAlgorithm === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  openssl(['req', ...keyArgs, '-nodes', '-keyout', options.outKey, '-out', csr, '-subj', options.subject], caDir);
  writeFileSync(ext, `${options.extensions.join('\n')}\n`);
  if (options.startDate && options.endDate) {
    // `openssl ca` is the only CLI path to arbitrary validity windows (expired / not yet valid).
    issueWithDates(options, csr, ext);
  } else {
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        join(caDir, 'ca.pem'),
        '-CAkey',
        join(caDir, 'ca-key.pem'),
        '-CAcreateserial',
        '-out',
        options.outCert,
        '-days',
        String(options.days ?? 825),
        '-sha256',
        '-extfile',
        ext,
      ],
      caDir,
    );
  }
  rmSync(csr, { force: true });
  rmSync(ext, { force: true });
}

function issueWithDates(options: IssueOptions, csr: string, ext: string): void {
  const { caDir } = options;
  const dbDir = join(caDir, '.ca-db');
  mkdirSync(dbDir, { recursive: true });
  const index = join(dbDir, 'index.txt');
  writeFileSync(index, '');
  const serial = join(dbDir, 'serial');
  writeFileSync(serial, `${Date.now().toString(16).padStart(16, '0')}\n`);
  const conf = join(dbDir, 'ca.cnf');
  writeFileSync(
    conf,
    [
      '[ca]',
      'default_ca = local',
      '[local]',
      `database = ${index}`,
      `serial = ${serial}`,
      `new_certs_dir = ${dbDir}`,
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      'copy_extensions = none',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  openssl(
    [
      'ca',
      '-batch',
      '-config',
      conf,
      '-cert',
      join(caDir, 'ca.pem'),
      '-keyfile',
      join(caDir, 'ca-key.pem'),
      '-in',
      csr,
      '-out',
      options.outCert,
      '-startdate',
      options.startDate as string,
      '-enddate',
      options.endDate as string,
      '-extfile',
      ext,
      '-notext',
    ],
    caDir,
  );
  rmSync(dbDir, { recursive: true, force: true });
}

/** Creates a self-signed CA (key unencrypted) in `dir`. */
export function createCertificateAuthority(dir: string, commonName: string): void {
  mkdirSync(dir, { recursive: true });
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
      '-days',
      '3650',
      '-sha256',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

/** Generates the local broker's PKI once; later calls reuse it. */
export function ensureCertificates(dir: string): CertificatePaths {
  const paths = certificatePaths(dir);
  const required = [paths.caFile, paths.brokerKeystoreFile, paths.clientCertFile, paths.clientKeyFile];
  if (required.every((file) => existsSync(file))) return paths;

  rmSync(dir, { recursive: true, force: true });
  createCertificateAuthority(dir, 'lambda-kafka local test CA');
  issueCertificate({
    caDir: dir,
    outCert: paths.brokerCertFile,
    outKey: paths.brokerKeyFile,
    subject: '/CN=localhost',
    extensions: ['subjectAltName=DNS:localhost,IP:127.0.0.1', 'extendedKeyUsage=serverAuth'],
  });
  issueCertificate({
    caDir: dir,
    outCert: paths.clientCertFile,
    outKey: paths.clientKeyFile,
    subject: '/CN=lambda-kafka-client',
    extensions: ['extendedKeyUsage=clientAuth'],
  });
  writeFileSync(
    paths.brokerKeystoreFile,
    readFileSync(paths.brokerKeyFile, 'utf8') + readFileSync(paths.brokerCertFile, 'utf8'),
  );
  return paths;
}
