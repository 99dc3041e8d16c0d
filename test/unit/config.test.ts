import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { librdkafkaProperties } from '../../src/config/librdkafka.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors/errors.js';

const BASE = { KAFKA_BOOTSTRAP_SERVERS: 'b-1.example.com:9092,b-2.example.com:9092' };
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----';
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIIEsecretkeymaterial\n-----END PRIVATE KEY-----';

function problemsOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it("equal the seed's defaults for every seed variable", () => {
    // Prepare / Act
    const config = loadConfig(BASE);

    // Assess
    expect(config.consumer).toMatchObject({
      sessionTimeoutMs: 30000,
      heartbeatIntervalMs: 10000,
      requestTimeoutMs: 40000,
      connectionsMaxIdleMs: 600000,
      metadataMaxAgeMs: 60000,
    });
    expect(config.init).toMatchObject({
      retries: 5,
      initialDelayMs: 2000,
      maxDelayMs: 30000,
      coordinatorWaitTimeoutMs: 60000,
      startupHealthCheck: true,
    });
    expect(config.ssl).toMatchObject({ enabled: false, verifyCertificates: true });
    expect(config.securityProtocol).toBe('PLAINTEXT');
    expect(config.warnings).toEqual([]);
  });

  it('takes the client id from the Lambda function name when KAFKA_CLIENT_ID is unset', () => {
    expect(loadConfig({ ...BASE, AWS_LAMBDA_FUNCTION_NAME: 'orders-producer' }).clientId).toBe('orders-producer');
    expect(loadConfig(BASE).clientId).toBe('lambda-kafka');
    expect(loadConfig({ ...BASE, KAFKA_CLIENT_ID: 'mine' }).clientId).toBe('mine');
  });

  it('treats blank variables as unset, so the default applies', () => {
    expect(loadConfig({ ...BASE, KAFKA_CONSUMER_INIT_RETRIES: '  ' }).init.retries).toBe(5);
  });
});

describe('the seed\'s "Disable Features" switches', () => {
  it('KAFKA_CONSUMER_INIT_RETRIES=0 means fail fast', () => {
    expect(loadConfig({ ...BASE, KAFKA_CONSUMER_INIT_RETRIES: '0' }).init.retries).toBe(0);
  });
  it('KAFKA_STARTUP_HEALTH_CHECK=false turns the health check off', () => {
    expect(loadConfig({ ...BASE, KAFKA_STARTUP_HEALTH_CHECK: 'false' }).init.startupHealthCheck).toBe(false);
  });
  it('KAFKA_SSL_VERIFY_CERTIFICATES=false turns the certificate checks off', () => {
    expect(loadConfig({ ...BASE, KAFKA_SSL_VERIFY_CERTIFICATES: 'false' }).ssl.verifyCertificates).toBe(false);
  });
});

describe('booleans', () => {
  it.each(['true', 'TRUE', 'True', '1', 'yes', 'on', ' true '])('reads %j as true', (word) => {
    expect(loadConfig({ ...BASE, KAFKA_USE_SSL: word }).ssl.enabled).toBe(true);
  });
  it.each(['false', 'FALSE', '0', 'no', 'off'])('reads %j as false', (word) => {
    expect(loadConfig({ ...BASE, KAFKA_USE_SSL: word }).ssl.enabled).toBe(false);
  });
});

describe('security protocol', () => {
  const sasl = { KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' };
  it.each([
    [{}, 'PLAINTEXT'],
    [{ KAFKA_USE_SSL: 'true' }, 'SSL'],
    [sasl, 'SASL_PLAINTEXT'],
    [{ ...sasl, KAFKA_USE_SSL: 'true' }, 'SASL_SSL'],
  ])('%j gives %s', (env, protocol) => {
    expect(loadConfig({ ...BASE, ...env }).securityProtocol).toBe(protocol);
  });
  it('accepts the mechanism in any case', () => {
    expect(loadConfig({ ...BASE, ...sasl, KAFKA_SASL_MECHANISM: 'scram-sha-256' }).sasl?.mechanism).toBe(
      'SCRAM-SHA-256',
    );
  });
});

// Each invalid environment and every variable its error must name.
const INVALID: [string, Record<string, string>, string[]][] = [
  ['bootstrap servers missing', { KAFKA_BOOTSTRAP_SERVERS: '' }, ['KAFKA_BOOTSTRAP_SERVERS']],
  ['broker without port', { KAFKA_BOOTSTRAP_SERVERS: 'broker' }, ['KAFKA_BOOTSTRAP_SERVERS']],
  ['broker with protocol prefix', { KAFKA_BOOTSTRAP_SERVERS: 'SSL://broker:9093' }, ['KAFKA_BOOTSTRAP_SERVERS']],
  ['port out of range', { KAFKA_BOOTSTRAP_SERVERS: 'broker:99999' }, ['KAFKA_BOOTSTRAP_SERVERS']],
  ['only commas', { KAFKA_BOOTSTRAP_SERVERS: ',,' }, ['KAFKA_BOOTSTRAP_SERVERS']],
  ['SSL flag as a sentence', { KAFKA_USE_SSL: 'yes please' }, ['KAFKA_USE_SSL']],
  ['SSL flag misspelt', { KAFKA_USE_SSL: 'ture' }, ['KAFKA_USE_SSL']],
  ['verify flag not a boolean', { KAFKA_SSL_VERIFY_CERTIFICATES: 'maybe' }, ['KAFKA_SSL_VERIFY_CERTIFICATES']],
  ['health check flag as 2', { KAFKA_STARTUP_HEALTH_CHECK: '2' }, ['KAFKA_STARTUP_HEALTH_CHECK']],
  ['create topics flag as y', { KAFKA_CREATE_TOPICS: 'y' }, ['KAFKA_CREATE_TOPICS']],
  ['retries as a word', { KAFKA_CONSUMER_INIT_RETRIES: 'five' }, ['KAFKA_CONSUMER_INIT_RETRIES']],
  ['negative retries', { KAFKA_CONSUMER_INIT_RETRIES: '-1' }, ['KAFKA_CONSUMER_INIT_RETRIES']],
  ['fractional retries', { KAFKA_CONSUMER_INIT_RETRIES: '2.5' }, ['KAFKA_CONSUMER_INIT_RETRIES']],
  ['too many retries', { KAFKA_CONSUMER_INIT_RETRIES: '1000' }, ['KAFKA_CONSUMER_INIT_RETRIES']],
  ['delay as a word', { KAFKA_CONSUMER_INIT_DELAY: 'two' }, ['KAFKA_CONSUMER_INIT_DELAY']],
  ['zero delay', { KAFKA_CONSUMER_INIT_DELAY: '0' }, ['KAFKA_CONSUMER_INIT_DELAY']],
  ['negative max delay', { KAFKA_CONSUMER_INIT_MAX_DELAY: '-5' }, ['KAFKA_CONSUMER_INIT_MAX_DELAY']],
  [
    'delay above max delay',
    { KAFKA_CONSUMER_INIT_DELAY: '10', KAFKA_CONSUMER_INIT_MAX_DELAY: '5' },
    ['KAFKA_CONSUMER_INIT_DELAY', 'KAFKA_CONSUMER_INIT_MAX_DELAY'],
  ],
  ['zero coordinator wait', { KAFKA_COORDINATOR_WAIT_TIMEOUT: '0' }, ['KAFKA_COORDINATOR_WAIT_TIMEOUT']],
  ['coordinator wait with a unit', { KAFKA_COORDINATOR_WAIT_TIMEOUT: '1h' }, ['KAFKA_COORDINATOR_WAIT_TIMEOUT']],
  ['session timeout as text', { KAFKA_CONSUMER_SESSION_TIMEOUT_MS: 'abc' }, ['KAFKA_CONSUMER_SESSION_TIMEOUT_MS']],
  [
    'heartbeat equal to session',
    { KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS: '30000', KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '30000' },
    ['KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS', 'KAFKA_CONSUMER_SESSION_TIMEOUT_MS'],
  ],
  [
    'heartbeat above the default session',
    { KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS: '40000' },
    ['KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS', 'KAFKA_CONSUMER_SESSION_TIMEOUT_MS'],
  ],
  [
    'request timeout below librdkafka minimum',
    { KAFKA_CONSUMER_REQUEST_TIMEOUT_MS: '1000' },
    ['KAFKA_CONSUMER_REQUEST_TIMEOUT_MS'],
  ],
  ['negative idle time', { KAFKA_CONSUMER_CONNECTIONS_MAX_IDLE_MS: '-1' }, ['KAFKA_CONSUMER_CONNECTIONS_MAX_IDLE_MS']],
  ['metadata age too short', { KAFKA_CONSUMER_METADATA_MAX_AGE_MS: '500' }, ['KAFKA_CONSUMER_METADATA_MAX_AGE_MS']],
  ['unsupported SASL mechanism', { KAFKA_SASL_MECHANISM: 'GSSAPI' }, ['KAFKA_SASL_MECHANISM']],
  [
    'SCRAM without credentials',
    { KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' },
    ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'],
  ],
  ['PLAIN without password', { KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u' }, ['KAFKA_SASL_PASSWORD']],
  ['username without mechanism', { KAFKA_SASL_USERNAME: 'u' }, ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_MECHANISM']],
  [
    'MSK IAM without TLS',
    { KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM', AWS_REGION: 'eu-west-1', KAFKA_USE_SSL: 'false' },
    ['KAFKA_USE_SSL'],
  ],
  ['MSK IAM without a region', { KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM', KAFKA_USE_SSL: 'true' }, ['AWS_REGION']],
  [
    'CA as file and inline',
    { KAFKA_SSL_CAFILE: '/ca.pem', KAFKA_SSL_CA_PEM: CA_PEM },
    ['KAFKA_SSL_CAFILE', 'KAFKA_SSL_CA_PEM'],
  ],
  ['certificate without key', { KAFKA_SSL_CERTFILE: '/cert.pem' }, ['KAFKA_SSL_KEYFILE']],
  ['key without certificate', { KAFKA_SSL_KEYFILE: '/key.pem' }, ['KAFKA_SSL_CERTFILE']],
  ['key password without key', { KAFKA_SSL_KEY_PASSWORD: 'pw' }, ['KAFKA_SSL_KEY_PASSWORD']],
  ['inline CA that is not PEM', { KAFKA_SSL_CA_PEM: 'hello' }, ['KAFKA_SSL_CA_PEM']],
  [
    'inline certificate as bare base64',
    { KAFKA_SSL_CERT_PEM: 'MIIBfake', KAFKA_SSL_KEY_PEM: KEY_PEM },
    ['KAFKA_SSL_CERT_PEM'],
  ],
  [
    'inline key that is not PEM',
    { KAFKA_SSL_KEY_PEM: 'not-a-key', KAFKA_SSL_CERTFILE: '/c.pem' },
    ['KAFKA_SSL_KEY_PEM'],
  ],
  ['topic name with a space', { KAFKA_TOPICS: 'orders,bad topic' }, ['KAFKA_TOPICS']],
  ['topic name ".."', { KAFKA_TOPICS: '..' }, ['KAFKA_TOPICS']],
  ['zero partitions', { KAFKA_TOPIC_PARTITIONS: '0' }, ['KAFKA_TOPIC_PARTITIONS']],
  ['replication factor as a word', { KAFKA_TOPIC_REPLICATION_FACTOR: 'three' }, ['KAFKA_TOPIC_REPLICATION_FACTOR']],
  ['negative deadline margin', { KAFKA_DEADLINE_MARGIN_MS: '-100' }, ['KAFKA_DEADLINE_MARGIN_MS']],
  ['breaker threshold as text', { KAFKA_CIRCUIT_BREAKER_THRESHOLD: 'x' }, ['KAFKA_CIRCUIT_BREAKER_THRESHOLD']],
  ['expiry warning as text', { KAFKA_SSL_EXPIRY_WARNING_DAYS: 'soon' }, ['KAFKA_SSL_EXPIRY_WARNING_DAYS']],
  [
    'four problems at once',
    {
      KAFKA_BOOTSTRAP_SERVERS: '',
      KAFKA_CONSUMER_INIT_RETRIES: 'five',
      KAFKA_USE_SSL: 'ture',
      KAFKA_CONSUMER_SESSION_TIMEOUT_MS: 'abc',
    },
    ['KAFKA_BOOTSTRAP_SERVERS', 'KAFKA_CONSUMER_INIT_RETRIES', 'KAFKA_USE_SSL', 'KAFKA_CONSUMER_SESSION_TIMEOUT_MS'],
  ],
  [
    'SASL and SSL mistakes together',
    {
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SSL_KEYFILE: '/k.pem',
      KAFKA_USE_SSL: 'si',
    },
    ['KAFKA_SASL_PASSWORD', 'KAFKA_SSL_CERTFILE', 'KAFKA_USE_SSL'],
  ],
];

describe('invalid environments', () => {
  it('are at least thirty', () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(30);
  });

  it.each(INVALID)('%s: the error names every bad variable', (_, env, variables) => {
    // Prepare
    const input = 'KAFKA_BOOTSTRAP_SERVERS' in env ? env : { ...BASE, ...env };

    // Act
    const error = problemsOf(input);

    // Assess
    for (const variable of variables) {
      expect(error.problems.some((p) => p.variables.includes(variable))).toBe(true);
      expect(error.message).toContain(variable);
    }
    for (const problem of error.problems) {
      expect(problem.variables.length).toBeGreaterThan(0);
      expect(problem.variables.some((name) => problem.message.startsWith(name))).toBe(true);
    }
  });

  it('says what was expected and what it got', () => {
    const { message } = problemsOf({ ...BASE, KAFKA_CONSUMER_INIT_RETRIES: 'five' });
    expect(message).toContain('KAFKA_CONSUMER_INIT_RETRIES: expected a whole number from 0 to 100, got "five"');
  });

  it('never echoes a secret value', () => {
    const secret = 'definitely-not-PEM-s3cret';
    const { message } = problemsOf({ ...BASE, KAFKA_SSL_KEY_PEM: secret, KAFKA_SSL_CERTFILE: '/c.pem' });
    expect(message).toContain('KAFKA_SSL_KEY_PEM');
    expect(message).toContain('value hidden');
    expect(message).not.toContain(secret);
  });
});

describe('warnings', () => {
  it('flags certificates that KAFKA_USE_SSL=false leaves unused', () => {
    const config = loadConfig({ ...BASE, KAFKA_SSL_CAFILE: '/ca.pem' });
    expect(config.warnings.join('\n')).toMatch(/KAFKA_SSL_CAFILE set but KAFKA_USE_SSL is false/);
  });
  it('flags a heartbeat above a third of the session timeout', () => {
    const config = loadConfig({ ...BASE, KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS: '15000' });
    expect(config.warnings.join('\n')).toMatch(/more than a third/);
  });
});

describe('secrets in the parsed configuration', () => {
  it('print as *** through JSON, String and util.inspect', () => {
    // Prepare
    const config = loadConfig({
      ...BASE,
      KAFKA_USE_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'user',
      KAFKA_SASL_PASSWORD: 'hunter2-password',
      KAFKA_SSL_CERTFILE: '/c.pem',
      KAFKA_SSL_KEY_PEM: KEY_PEM,
      KAFKA_SSL_KEY_PASSWORD: 'key-pass-123',
    });

    // Act
    const printed = [JSON.stringify(config), inspect(config, { depth: 10 }), `${config.sasl?.password}`].join('\n');

    // Assess
    for (const secret of ['hunter2-password', 'secretkeymaterial', 'key-pass-123']) {
      expect(printed).not.toContain(secret);
    }
    expect(config.sasl?.password?.reveal()).toBe('hunter2-password');
  });

  it('turns \\n escapes in inline PEM into newlines', () => {
    const config = loadConfig({ ...BASE, KAFKA_SSL_CA_PEM: CA_PEM.replaceAll('\n', '\\n') });
    expect(config.ssl.ca?.kind === 'inline' && config.ssl.ca.pem.reveal()).toBe(CA_PEM);
  });
});

describe('librdkafka properties', () => {
  const config = loadConfig({
    ...BASE,
    KAFKA_USE_SSL: 'true',
    KAFKA_SSL_CAFILE: '/ca.pem',
    KAFKA_SSL_CERT_PEM: CA_PEM,
    KAFKA_SSL_KEY_PEM: KEY_PEM,
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: 'user',
    KAFKA_SASL_PASSWORD: 'pw',
    KAFKA_CONSUMER_GROUP_ID: 'orders',
  });

  it('give every client the connection and security settings', () => {
    for (const client of ['producer', 'consumer', 'admin'] as const) {
      expect(librdkafkaProperties(config, client)).toMatchObject({
        'bootstrap.servers': 'b-1.example.com:9092,b-2.example.com:9092',
        'security.protocol': 'sasl_ssl',
        'ssl.ca.location': '/ca.pem',
        'ssl.certificate.pem': CA_PEM,
        'ssl.key.pem': KEY_PEM,
        'sasl.mechanisms': 'SCRAM-SHA-512',
        'sasl.username': 'user',
        'sasl.password': 'pw',
      });
    }
  });

  it("map the seed's consumer timeouts to their librdkafka names, on the consumer only", () => {
    const consumerOnly = {
      'session.timeout.ms': 30000,
      'heartbeat.interval.ms': 10000,
      'socket.timeout.ms': 40000,
      'connections.max.idle.ms': 600000,
      'topic.metadata.refresh.interval.ms': 60000,
      'group.id': 'orders',
    };
    expect(librdkafkaProperties(config, 'consumer')).toMatchObject(consumerOnly);
    for (const client of ['producer', 'admin'] as const) {
      const props = librdkafkaProperties(config, client);
      for (const key of Object.keys(consumerOnly)) expect(props).not.toHaveProperty(key);
    }
  });

  it('use OAUTHBEARER with a token callback for AWS_MSK_IAM', () => {
    const msk = loadConfig({
      ...BASE,
      KAFKA_USE_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM',
      AWS_REGION: 'eu-west-1',
    });
    const props = librdkafkaProperties(msk, 'producer');
    expect(props['sasl.mechanisms']).toBe('OAUTHBEARER');
    expect(typeof props.oauthbearer_token_refresh_cb).toBe('function');
    expect(props).not.toHaveProperty('sasl.username');
  });
});
