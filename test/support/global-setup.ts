/** Starts the default local broker before the test run; stops it afterwards only if this run started it. */
import { runningPid, startBroker, stopBroker } from '../../scripts/kafka/broker.js';
import { brokerLayout } from '../../scripts/kafka/layout.js';

export default async function setup(): Promise<() => Promise<void>> {
  const wasRunning = runningPid(brokerLayout('default')) !== undefined;
  await startBroker({ log: (line) => console.log(`[kafka] ${line}`) });
  return async () => {
    if (!wasRunning) await stopBroker('default');
  };
}
