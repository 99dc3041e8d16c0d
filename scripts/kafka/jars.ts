/** Resolves the broker's jars from Maven Central into `.kafka/lib`, once per version of the POM. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIB_DIR, POM_FILE, REPO_ROOT } from './layout.js';

const STAMP = join(LIB_DIR, '.pom-sha256');
/** Java expands `dir/*` on the classpath itself: no shell needed. */
export const LIB_CLASSPATH = join(LIB_DIR, '*');

/** A JDK tool (java, javac, jar): JAVA_HOME's when set, else the PATH's. */
function jdkTool(tool: string): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', tool) : tool;
}

export function javaCommand(): string {
  return jdkTool('java');
}

export async function ensureJars(log: (line: string) => void = () => {}): Promise<void> {
  const pomHash = createHash('sha256').update(readFileSync(POM_FILE)).digest('hex');
  const current = existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === pomHash;
  if (current && readdirSync(LIB_DIR).some((file) => file.startsWith('kafka_2.13-'))) return ensureIamValidator(log);

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
  ensureIamValidator(log);
}

const VALIDATOR_SOURCE = join(REPO_ROOT, 'scripts', 'kafka', 'iam', 'MskIamTokenValidator.java');
export const VALIDATOR_CLASS = 'lambdakafka.iam.MskIamTokenValidator';

/**
 * Compiles the MSK IAM token check against the Kafka jars into `.kafka/lib` (on the brokers'
 * classpath), again whenever its source or the jars change.
 */
export function ensureIamValidator(log: (line: string) => void = () => {}): void {
  const source = readFileSync(VALIDATOR_SOURCE);
  const hash = createHash('sha256').update(source).update(readFileSync(STAMP)).digest('hex');
  const jar = join(LIB_DIR, 'lambda-kafka-msk-iam.jar');
  const stamp = join(LIB_DIR, '.msk-iam-sha256');
  if (existsSync(jar) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return;
  log('Compiling the MSK IAM token check for the SASL_SSL listeners.');
  const classes = mkdtempSync(join(tmpdir(), 'lambda-kafka-msk-iam-'));
  try {
    execFileSync(jdkTool('javac'), ['-d', classes, '-cp', LIB_CLASSPATH, VALIDATOR_SOURCE], { stdio: 'pipe' });
    execFileSync(jdkTool('jar'), ['--create', '--file', jar, '-C', classes, '.'], { stdio: 'pipe' });
  } catch (error) {
    const output = `${(error as { stdout?: Buffer }).stdout ?? ''}${(error as { stderr?: Buffer }).stderr ?? ''}`;
    throw new Error(`Compiling ${VALIDATOR_SOURCE} failed (is a JDK's javac on the PATH?):\n${output}`, {
      cause: error,
    });
  } finally {
    rmSync(classes, { recursive: true, force: true });
  }
  writeFileSync(stamp, `${hash}\n`);
}
