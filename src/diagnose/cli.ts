/**
 * lambda-kafka diagnose [--json] [--env-file FILE] [--timeout SECONDS] [--create-topics]
 * lambda-kafka health   [--env-file FILE] [--timeout SECONDS]
 *
 * Configured by the same environment variables as the functions. Exit code 0 when healthy. Both only
 * read the cluster: diagnose creates the missing KAFKA_TOPICS with --create-topics only.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs, parseEnv } from 'node:util';
import { KafkaInitializer } from '../init/initializer.js';
import { diagnose } from './diagnose.js';
import { renderJson, renderText } from './report.js';

const USAGE = `usage:
  lambda-kafka diagnose [--json] [--env-file FILE] [--timeout SECONDS] [--create-topics]
      the seed's test script and troubleshooting checks; reads the cluster only, unless
      --create-topics: create the missing KAFKA_TOPICS (KAFKA_CREATE_TOPICS alone does not)
  lambda-kafka health [--env-file FILE] [--timeout SECONDS]
      getHealthStatus() as JSON, after a health check`;

function environment(envFile: string | undefined): Record<string, string | undefined> {
  if (!envFile) return { ...process.env };
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch (error) {
    throw new Error(
      `--env-file ${envFile}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  const file = parseEnv(text);
  // The AWS SDK (the AWS_MSK_IAM signer, secrets by reference) reads the role's credentials and
  // region from the process's environment, not from the configuration: the file's go there too.
  for (const [name, value] of Object.entries(file)) if (name.startsWith('AWS_')) process.env[name] = value;
  // The file's values win over the shell's: it was named on purpose.
  return { ...process.env, ...file };
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      'env-file': { type: 'string' },
      timeout: { type: 'string' },
      'create-topics': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const [command] = positionals;
  if (values.help || !command || !['diagnose', 'health'].includes(command)) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const seconds = values.timeout === undefined ? 8 : Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--timeout expects seconds, got "${values.timeout}"`);
  const env = environment(values['env-file']);

  if (command === 'health') {
    const kafka = new KafkaInitializer({
      env,
      handleSigterm: false,
      emitMetrics: false,
      log: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const end = Date.now() + seconds * 1000;
    const status = await kafka.checkHealth(
      kafka.begin({ getRemainingTimeInMillis: () => end - Date.now(), functionName: 'lambda-kafka-cli' }),
    );
    console.log(JSON.stringify(status, null, 2));
    await kafka.shutdown('done');
    return status.status === 'unhealthy' ? 1 : 0;
  }

  const { report, redactor } = await diagnose({
    env,
    timeoutMs: seconds * 1000,
    createTopics: values['create-topics'] === true,
  });
  console.log(values.json ? renderJson(report, redactor) : renderText(report));
  return report.ok ? 0 : 1;
}

/**
 * The work runs in a child process, which this one ends as soon as it has reported. A client
 * abandoned while connecting keeps a libuv worker thread in a blocking librdkafka call for up
 * to 30 s, and no process can exit before its worker threads do; a command should not wait for that.
 */
function runInChild(): void {
  const child = fork(process.argv[1] as string, process.argv.slice(2), {
    env: { ...process.env, LAMBDA_KAFKA_CLI_CHILD: '1' },
    execArgv: process.execArgv,
    stdio: 'inherit',
  });
  child.once('message', (message: { exitCode: number }) => {
    child.kill('SIGKILL');
    process.exit(message.exitCode);
  });
  child.once('exit', (code) => process.exit(code ?? 2));
}

if (process.env.LAMBDA_KAFKA_CLI_CHILD) {
  const report = (exitCode: number) => (process.send ? process.send({ exitCode }) : process.exit(exitCode));
  main(process.argv.slice(2)).then(report, (error: Error) => {
    console.error(`lambda-kafka: ${error.message}`);
    report(2);
  });
} else {
  runInChild();
}
