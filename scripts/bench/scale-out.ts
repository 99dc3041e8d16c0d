/**
 * Connections at scale-out: N environments of one function start at once (a burst of cold starts,
 * as Lambda scales out) against the local broker's SASL_SSL listener with AWS_MSK_IAM, and the
 * connections to that port are counted from the kernel's socket tables every 20 ms: how many each
 * cold environment opens, how many stay open, and the most opened in any one second, to set beside
 * MSK's quotas (new IAM connections per second per broker, connections per broker).
 *
 *   npx tsx scripts/bench/scale-out.ts [--environments 1,10,20] [--function produce|consume|health-check]
 */
import { parseArgs } from 'node:util';
import { iamEnv, issueIamCredentials } from '../../test/support/iam.js';
import { readConnection } from '../kafka/connection.js';
import { LambdaEnvironment } from '../lambda/environment.js';
import { brokerConnections, establishedConnections } from './connections.js';

const { values } = parseArgs({
  options: {
    environments: { type: 'string', default: '1,10,20' },
    function: { type: 'string', default: 'produce' },
  },
});
const counts = (values.environments as string).split(',').map(Number);
const name = values.function as string;
const listener = readConnection().listeners.SASL_SSL;
const port = Number(listener.bootstrapServers.split(',')[0]?.split(':')[1]);
const topic = `scale-out-${Date.now()}`;
const admin = await LambdaEnvironment.start({
  handler: 'handlers/produce.ts',
  env: {
    ...iamEnv(issueIamCredentials()),
    KAFKA_TOPICS: topic,
    KAFKA_CREATE_TOPICS: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  },
});
await admin.invoke({ messages: [{ key: 'k', value: 'topic created' }] }, 30_000);
await admin.shutdown();

console.log(`${name}, AWS_MSK_IAM on ${listener.bootstrapServers} (one broker), topic ${topic}`);
console.log('environments | opened (per environment) | open after | most opened in 1 s | slowest cold invocation');
for (const n of counts) {
  const env = {
    ...iamEnv(issueIamCredentials()),
    KAFKA_TOPICS: topic,
    KAFKA_CONSUMER_GROUP_ID: `${topic}-group`,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const environments = await Promise.all(
    Array.from({ length: n }, () => LambdaEnvironment.start({ handler: `handlers/${name}.ts`, env })),
  );
  const before = brokerConnections(port);
  const seen = new Map<string, number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const now = Date.now();
      for (const client of brokerConnections(port)) if (!before.has(client) && !seen.has(client)) seen.set(client, now);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const event =
    name === 'produce' ? { messages: [{ key: 'k', value: 'v' }] } : name === 'consume' ? { idleMs: 200 } : {};
  const results = await Promise.all(environments.map((e) => e.invoke(event, 60_000)));
  await new Promise((resolve) => setTimeout(resolve, 200));
  sampling = false;
  await sampler;
  const times = [...seen.values()].sort((a, b) => a - b);
  let busiest = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= 1000) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  const open = [...establishedConnections(port)].filter((c) => !before.has(c)).length;
  const failed = results.filter((r) => !r.ok).length;
  const causes = new Set(
    results.flatMap((r) => (r.ok ? [] : [(r.error?.message ?? '').split('\n')[0]?.slice(0, 160)])),
  );
  for (const cause of causes) console.log(`  failed: ${cause}`);
  const slowest = Math.max(...results.map((r) => r.durationMs));
  console.log(
    `${n} | ${seen.size} (${(seen.size / n).toFixed(1)}) | ${open} | ${busiest} | ${slowest.toFixed(0)} ms${failed ? ` (${failed} failed)` : ''}`,
  );
  await Promise.all(environments.map((e) => e.shutdown()));
}
