/**
 * The main job (`npm run demo`): the three Lambda functions, each in its own emulated execution
 * environment, against the local broker (started here unless KAFKA_BOOTSTRAP_SERVERS points
 * elsewhere): produce a few messages, drain them, run the health check. It prints the seed's
 * staged log lines, each function's result, the health status and the EMF metrics.
 */
import { randomUUID } from 'node:crypto';
import { startBroker, stopBroker } from './kafka/broker.js';
import { listenerEnvironment } from './kafka/connection.js';
import { DEFAULT_BROKER } from './kafka/layout.js';
import { type InvokeResult, LambdaEnvironment } from './lambda/environment.js';

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

function printer(name: string) {
  return (line: string) => {
    if (!line.startsWith('{')) return console.log(`  [${name}] ${line}`);
    const entry = JSON.parse(line) as Record<string, unknown>;
    if ('_aws' in entry) {
      const { _aws, service, ...values } = entry;
      return console.log(`  [${name}] EMF   ${JSON.stringify(values)}`);
    }
    const { level, message, client, facility } = entry as {
      level: string;
      message: string;
      client?: string;
      facility?: string;
    };
    const source = client ? ` (${client}${facility ? ` ${facility}` : ''})` : '';
    console.log(`  [${name}] ${level.padEnd(5)} ${message}${source}`);
  };
}

async function localEnvironment(): Promise<{ env: Record<string, string>; startedBroker: boolean }> {
  if (process.env.KAFKA_BOOTSTRAP_SERVERS) return { env: {}, startedBroker: false };
  const connection = await startBroker({ log: (line) => console.log(line) });
  const sasl = connection.listeners.SASL_SSL;
  console.log(`Using the local broker's SASL_SSL listener (${sasl.bootstrapServers}): TLS and SCRAM-SHA-512.\n`);
  return {
    startedBroker: true,
    env: {
      ...listenerEnvironment(sasl),
      KAFKA_TOPICS: 'demo-orders',
      KAFKA_CREATE_TOPICS: 'true',
      KAFKA_CONSUMER_GROUP_ID: 'lambda-kafka-demo',
    },
  };
}

function show(title: string, result: InvokeResult): void {
  console.log(bold(`  → ${result.ok ? 'returned' : 'failed'} in ${result.durationMs} ms:`));
  const body = result.ok ? result.value : result.error;
  console.log(`${JSON.stringify(body, null, 2).replace(/^/gm, '    ')}\n`);
  if (!result.ok) throw new Error(`${title} failed: ${result.error?.message}`);
}

async function main(): Promise<void> {
  const { env, startedBroker } = await localEnvironment();
  const start = (name: string, handler: string) =>
    LambdaEnvironment.start({
      handler,
      env: { ...env, AWS_LAMBDA_FUNCTION_NAME: `lambda-kafka-${name}` },
      echo: printer(name),
    });
  const produce = await start('produce', 'handlers/produce.ts');
  const consume = await start('consume', 'handlers/consume.ts');
  const health = await start('health', 'handlers/health-check.ts');
  try {
    const run = randomUUID().slice(0, 8);
    console.log(bold("1. produce: a direct invocation, cold: the seed's staged initialisation"));
    const orders = Array.from({ length: 5 }, (_, i) => ({
      key: `order-${i}`,
      value: { order: i, run },
      headers: { source: 'demo' },
    }));
    const first = await produce.invoke({ messages: orders }, 30_000);
    show('produce', { ...first, value: summarize(first.value) });

    console.log(bold('2. produce again, warm: no stage runs'));
    show(
      'produce',
      await produce
        .invoke({ messages: [{ key: 'order-5', value: { order: 5, run } }] }, 30_000)
        .then((r) => ({ ...r, value: summarize(r.value) })),
    );

    console.log(bold('3. consume: the scheduled bounded drain'));
    show('consume', await consume.invoke({ maxMessages: 100, idleMs: 1500 }, 30_000));

    console.log(bold('4. health-check: the scheduled health check'));
    show('health', await health.invoke({}, 30_000));
  } finally {
    await Promise.all([produce.shutdown(), consume.shutdown(), health.shutdown()]);
    if (startedBroker) await stopBroker(DEFAULT_BROKER);
  }
  console.log('Done: produced, drained and checked through the three Lambda functions.');
}

/** The produce result without its per-message list (shown as a count). */
function summarize(value: unknown): unknown {
  const result = value as { sent: number; failed: number; results: unknown[] } | undefined;
  return result && { sent: result.sent, failed: result.failed, first: result.results[0] };
}

main().catch((error: Error) => {
  console.error(`Demo failed: ${error.message}`);
  process.exit(1);
});
