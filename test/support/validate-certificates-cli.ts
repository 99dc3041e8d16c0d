/** Runs the certificate checks for the environment given as JSON in argv[2]; used to run them as another user. */
import { loadConfig } from '../../src/config/load.js';
import { validateCertificates } from '../../src/ssl/certificates.js';

const env = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
validateCertificates(loadConfig(env).ssl).then(
  () => console.log(JSON.stringify({ ok: true })),
  (error: Error) => console.log(JSON.stringify({ ok: false, name: error.name, message: error.message })),
);
