/**
 * kcat as the independent client of the tests: it reads back what the binding wrote, and produces
 * and lists metadata where the binding must not be involved (the cluster tooling's own tests).
 * Nothing here loads the binding.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { type ClientListener, readConnection } from '../../scripts/kafka/connection.js';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';

/** `-b` and `-X` arguments for kcat from the same connection details the binding used. */
export function kcatArgs(listener: ClientListener, broker = 'default'): string[] {
  const connection = readConnection(broker).listeners[listener];
  const args = ['-b', connection.bootstrapServers, '-X', `security.protocol=${connection.securityProtocol}`];
  if (connection.caFile) args.push('-X', `ssl.ca.location=${connection.caFile}`);
  if (connection.certFile) args.push('-X', `ssl.certificate.location=${connection.certFile}`);
  if (connection.keyFile) args.push('-X', `ssl.key.location=${connection.keyFile}`);
  if (connection.saslMechanism) args.push('-X', `sasl.mechanisms=${connection.saslMechanism}`);
  if (connection.username) args.push('-X', `sasl.username=${connection.username}`);
  if (connection.password) args.push('-X', `sasl.password=${connection.password}`);
  return args;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kcat (through scripts/kcat.sh) and never rejects: the caller asserts on code and output. */
export function kcat(args: string[], timeoutMs = 30_000, input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      join(REPO_ROOT, 'scripts', 'kcat.sh'),
      args,
      // A whole topic's JSON can run to megabytes (execFile's default buffer is 1 MB).
      { timeout: timeoutMs, maxBuffer: 512 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Produces keyed messages with kcat (acks=all), one per line; rejects when kcat reports a failed delivery. */
export async function produceWithKcat(
  listener: ClientListener,
  topic: string,
  messages: { key: string; value: string }[],
  broker = 'default',
): Promise<void> {
  const input = messages.map(({ key, value }) => `${key}\t${value}\n`).join('');
  const args = [...kcatArgs(listener, broker), '-P', '-t', topic, '-K', '\t', '-X', 'acks=all'];
  const result = await kcat(args, 60_000, input);
  // A connection refused by a node that is down is logged, and is no failed delivery: kcat reports those as such.
  if (result.code !== 0 || /Delivery failed|message delivery failed|failed to produce/i.test(result.stderr)) {
    throw new Error(`kcat -P to ${topic} failed (${result.code}): ${result.stderr}`);
  }
}

export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers: Record<string, string>;
}

/** Reads a whole topic from the beginning with kcat (`-J`: one JSON object per message). */
export async function readWithKcat(
  listener: ClientListener,
  topic: string,
  broker = 'default',
): Promise<KcatMessage[]> {
  const result = await kcat(
    [...kcatArgs(listener, broker), '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q'],
    120_000,
  );
  if (result.code !== 0) throw new Error(`kcat failed (${result.code}): ${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const raw = JSON.parse(line) as Omit<KcatMessage, 'headers'> & { headers?: string[] };
      const headers: Record<string, string> = {};
      // kcat -J prints headers as a flat [name, value, name, value, ...] array.
      for (let i = 0; i + 1 < (raw.headers?.length ?? 0); i += 2) {
        headers[raw.headers?.[i] as string] = raw.headers?.[i + 1] as string;
      }
      return { ...raw, headers };
    });
}
