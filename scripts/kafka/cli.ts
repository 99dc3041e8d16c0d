/**
 * npm run kafka:start [-- --name N] [--port-base P] [--prop key=value ...] [--fresh] [--host 127.0.0.x]
 * npm run kafka:stop  [-- --name N]        (no name: every broker this tooling started)
 * npm run kafka:status
 */
import { parseArgs } from 'node:util';
import { listBrokers, startBroker, stopBroker } from './broker.js';

const usage = `usage:
  kafka:start [--name N] [--port-base P] [--prop key=value ...] [--fresh] [--host 127.0.0.x]
  kafka:stop [--name N]
  kafka:status`;

function parseProps(values: string[]): Record<string, string> {
  const props: Record<string, string> = {};
  for (const item of values) {
    const at = item.indexOf('=');
    if (at <= 0) throw new Error(`--prop expects key=value, got "${item}"`);
    props[item.slice(0, at)] = item.slice(at + 1);
  }
  return props;
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      'port-base': { type: 'string' },
      prop: { type: 'string', multiple: true },
      fresh: { type: 'boolean' },
      host: { type: 'string' },
    },
  });
  switch (command) {
    case 'start': {
      const portBase = values['port-base'] === undefined ? undefined : Number(values['port-base']);
      if (portBase !== undefined && !(Number.isInteger(portBase) && portBase > 1024 && portBase < 65530)) {
        throw new Error(`--port-base must be a port number between 1025 and 65529, got "${values['port-base']}"`);
      }
      const connection = await startBroker({
        name: values.name,
        portBase,
        props: parseProps(values.prop ?? []),
        fresh: values.fresh,
        host: values.host,
        log: (line) => console.log(line),
      });
      console.log(
        `Local broker "${connection.broker}" ready (pid ${connection.pid}, cluster ${connection.clusterId}):`,
      );
      for (const listener of Object.values(connection.listeners)) {
        console.log(`  ${listener.securityProtocol.padEnd(9)} ${listener.bootstrapServers}`);
      }
      console.log(
        `Connection details: .kafka/${connection.broker === 'default' ? '' : `brokers/${connection.broker}/`}connection.json`,
      );
      return 0;
    }
    case 'stop': {
      const names = values.name ? [values.name] : listBrokers().map((broker) => broker.name);
      for (const name of names) {
        const stopped = await stopBroker(name);
        console.log(stopped ? `Stopped local broker "${name}".` : `Local broker "${name}" was not running.`);
      }
      return 0;
    }
    case 'status': {
      const brokers = listBrokers();
      if (brokers.length === 0) console.log('No local broker has been started yet.');
      for (const broker of brokers) {
        const ports = broker.ports
          ? Object.entries(broker.ports)
              .map(([l, p]) => `${l}=${p}`)
              .join(' ')
          : '';
        console.log(`${broker.name}: ${broker.pid ? `running (pid ${broker.pid})` : 'stopped'} ${ports}`);
      }
      return brokers.some((broker) => broker.pid) ? 0 : 3;
    }
    default:
      console.error(usage);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
