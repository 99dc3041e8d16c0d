/** Resolves the broker's jars from Maven Central into `.kafka/lib`, once per version of the POM. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIB_DIR, POM_FILE } from './layout.js';

const STAMP = join(LIB_DIR, '.pom-sha256');
/** Java expands `dir/*` on the classpath itself: no shell needed. */
export const LIB_CLASSPATH = join(LIB_DIR, '*');

export function javaCommand(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

export async function ensureJars(log: (line: string) => void = () => {}): Promise<void> {
  const pomHash = createHash('sha256').update(readFileSync(POM_FILE)).digest('hex');
  const current = existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === pomHash;
  if (current && readdirSync(LIB_DIR).some((file) => file.startsWith('kafka_2.13-'))) return;

  log(`Resolving Apache Kafka jars from Maven Central into ${LIB_DIR} (first run only).`);
  rmSync(LIB_DIR, { recursive: true, force: true });
  mkdirSync(LIB_DIR, { recursive: true });
  try {
    execFileSync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        POM_FILE,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${LIB_DIR}`,
        '-DincludeScope=runtime',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    const output = `${(error as { stdout?: Buffer }).stdout ?? ''}${(error as { stderr?: Buffer }).stderr ?? ''}`;
    throw new Error(
      `Resolving the Kafka jars with Maven failed (is \`mvn\` installed and Maven Central reachable?):\n${output}`,
      { cause: error },
    );
  }
  writeFileSync(STAMP, `${pomHash}\n`);
}
