/**
 * A local Secrets Manager and SSM: moto's server (PyPI `moto[server]`, installed by
 * scripts/setup.sh --tests into .build/python), on a loopback port of its own for one test file.
 * The AWS SDK reaches it through AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_SSM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { freePort } from '../../scripts/lambda/rie.js';

const MOTO_SERVER = join(REPO_ROOT, '.build', 'python', 'bin', 'moto_server');

export interface LocalAws {
  endpoint: string;
  /** What a function (or this process's SDK clients) needs to talk to it. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts moved to two new ports before giving up: see startLocalAws(). */
const START_ATTEMPTS = 3;

export interface LocalAwsOptions {
  /** Picks the port of each attempt (tests hand it a taken one); default: one the kernel has free now. */
  port?: () => Promise<number>;
}

/**
 * Starts moto_server and waits until it answers. The port comes from freePort(), which closes it
 * again; an outgoing connection of another process (the tests open hundreds) can be given it before
 * moto binds, and moto then exits with "Address already in use": it is started again on another
 * port, up to START_ATTEMPTS times.
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  if (!existsSync(MOTO_SERVER)) {
    throw new Error(`${MOTO_SERVER} is missing: run bash scripts/setup.sh --tests (it installs moto[server])`);
  }
  for (let attempt = 1; ; attempt++) {
    const port = await (options.port ?? freePort)();
    const started = await launch(port);
    if ('aws' in started) return started.aws;
    if (!started.portTaken || attempt === START_ATTEMPTS) throw started.error;
    process.stderr.write(`moto_server: port ${port} was taken before it could listen; starting it on another\n`);
  }
}

async function launch(port: number): Promise<{ aws: LocalAws } | { error: Error; portTaken: boolean }> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const closed = new Promise((resolve) => child.once('close', resolve));
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) {
      await closed; // its last words on stderr
      const error = new Error(`moto_server exited (${child.exitCode}):\n${stderr}`);
      return { error, portTaken: /address already in use/i.test(stderr) };
    }
    try {
      // Bounded: what holds a taken port may accept and never answer.
      if ((await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 30_000) {
      child.kill('SIGKILL');
      return {
        error: new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${stderr}`),
        portTaken: false,
      };
    }
    await sleep(200);
  }
  const aws: LocalAws = {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
      AWS_ENDPOINT_URL_SSM: endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    },
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    },
  };
  return { aws };
}
