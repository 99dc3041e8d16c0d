/**
 * The causes librdkafka only logs, while the call itself fails with a generic code ("broker
 * transport failure", a timeout): each pattern is a real log line of librdkafka 2.15 (see
 * test/unit/classify.test.ts), the code the call reports, and — where that code is too generic — a
 * named cause of KAFKA_CAUSES (causes.ts) whose kind and hint replace the code's.
 */
import { fromCode, namedCause, notTlsFinding } from './causes.js';
import type { Classification, ClientLogLine } from './classify.js';

export interface LogPattern {
  pattern: RegExp;
  /** The librdkafka code the failing call reports. */
  code: number;
  /** A cause of KAFKA_CAUSES, when the code alone is too generic; a function when the line decides which. */
  cause?: string | ((match: RegExpMatchArray) => string);
  /** Counts only once it happened this often (librdkafka's "N identical error(s) suppressed" included). */
  times?: number;
  describe: (match: RegExpMatchArray) => string;
}

/**
 * A broker as librdkafka names it at the start of a line: `[proto://]host:port/<id or bootstrap>: `,
 * captured as `broker` (host:port). `schemes` limits the protocols (PLAINTEXT has none).
 */
function brokerLine(rest: string, schemes = '[a-z_]+:\\/\\/'): RegExp {
  return new RegExp(`(?:^|\\s)(?:${schemes})?(?<broker>[^\\s/]+:\\d+)\\/\\w+: ${rest}`);
}

const broker = (m: RegExpMatchArray) => m.groups?.broker ?? 'the broker';

/** librdkafka reads the first 4 bytes of any answer as a Kafka response size: a non-Kafka server's first bytes. */
function firstBytes(size: string): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(Number(size) >>> 0);
  return bytes;
}

/** A TLS record header: content type 21 (alert) or 22 (handshake), then version 3.x. */
const isTlsRecord = (bytes: Buffer) => (bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03;

function notKafka(m: RegExpMatchArray): string {
  const bytes = firstBytes(m[2] as string);
  if (isTlsRecord(bytes)) {
    return `${broker(m)} answered the first Kafka request with a TLS record: this port does not speak plain Kafka, it is a TLS listener`;
  }
  const text = bytes.toString('latin1');
  const shown = /^[\x20-\x7e]{4}$/.test(text) ? `"${text}"` : `bytes 0x${bytes.toString('hex')}`;
  const server = text === 'HTTP' ? ' (an HTTP server)' : text === 'SSH-' ? ' (an SSH server)' : '';
  return `${broker(m)} is not a Kafka broker: it answered the first Kafka request with ${shown}${server}`;
}

/** Specific causes librdkafka only logs: the ones no retry can fix first, then the transient ones. */
export const LOG_PATTERNS: readonly LogPattern[] = [
  {
    // AWS_MSK_IAM's token callback failed: the binding's error event, or librdkafka's line after it.
    pattern: /(?:oauthbearer_token_refresh_cb|Failed to acquire SASL OAUTHBEARER token): (.*)$/,
    code: -169,
    cause: 'MSK_IAM_SIGNING_FAILED',
    describe: (m) => `no token was signed: ${m[1]}`,
  },
  {
    // An OAUTHBEARER refusal is the broker's JSON error (RFC 7628); its status says why.
    pattern: brokerLine('SASL authentication error: \\{"status":"(?<status>[^"]*)"[^}]*\\}'),
    code: -169,
    cause: (m) => (/expired/.test(m.groups?.status ?? '') ? 'MSK_IAM_TOKEN_EXPIRED' : 'MSK_IAM_TOKEN_REFUSED'),
    describe: (m) => `${broker(m)} refused the AWS_MSK_IAM token: ${m.groups?.status}`,
  },
  {
    // The connection broke before the broker answered the authentication (one shutting down or
    // starting): nothing was refused. Seen for the group coordinator's connection in a rolling restart.
    pattern: /SASL authentication error: SaslAuthenticateRequest failed: Local: Broker transport failure/,
    code: -195,
    describe: () =>
      'the connection broke before the broker answered the SASL authentication (a broker shutting down or starting does this)',
  },
  {
    pattern: /SASL authentication error: (.*?)(?: \(after \d+ms.*)?$/,
    code: -169,
    describe: (m) => `SASL authentication failed: ${m[1]}`,
  },
  {
    // A TLS client on a port that does not speak TLS: OpenSSL reading a non-TLS answer.
    pattern: brokerLine('SSL handshake failed: .*(?:wrong version number|packet length too long)'),
    code: -181,
    cause: 'NOT_TLS',
    describe: (m) => notTlsFinding(broker(m)),
  },
  {
    // librdkafka's guess for a handshake the peer closed: a PLAINTEXT listener closes every one.
    pattern: brokerLine(
      'SSL handshake failed: Disconnected: SSL connection closed by peer: connecting to a PLAINTEXT broker listener\\?',
    ),
    code: -181,
    cause: 'NOT_TLS',
    // Twice: a broker shutting down may close one handshake so (the cluster tests' rolling restart did).
    times: 2,
    describe: (m) => notTlsFinding(broker(m)),
  },
  {
    // Once (above), or reset: a broker shutting down or starting does this to new connections, and
    // librdkafka still guesses "a PLAINTEXT listener?". Both seen in the cluster tests' rolling restart.
    pattern: brokerLine('SSL handshake failed: Disconnected: (?:SSL )?connection (?:reset|closed) by peer'),
    code: -195,
    describe: (m) =>
      `${broker(m)} ${/reset/.test(m[0]) ? 'reset' : 'closed'} the connection during the TLS handshake (a broker shutting down or starting does this)`,
  },
  {
    // librdkafka says the same for an untrusted, expired or misnamed certificate: src/ssl/tls-causes.ts tells which.
    pattern: brokerLine('SSL handshake failed: .*certificate verify failed'),
    code: -181,
    cause: 'BROKER_CERTIFICATE_REJECTED',
    describe: (m) => `the certificate of broker ${broker(m)} could not be verified (certificate verify failed)`,
  },
  {
    // The broker's TLS alert after our handshake: it wanted a client certificate and got none, or refused it.
    pattern: brokerLine(
      '.*alert (?:bad certificate|certificate required|unknown ca|certificate unknown|certificate expired|certificate revoked|unsupported certificate|handshake failure)',
    ),
    code: -181,
    cause: 'CLIENT_CERTIFICATE_REFUSED',
    describe: (m) =>
      `broker ${broker(m)} refused the TLS connection for want of an acceptable client certificate (mutual TLS): none was sent, or its issuer is not trusted by the broker, or it expired`,
  },
  {
    pattern: /SSL handshake failed: (.*?)(?: \(after \d+ms.*)?$/,
    code: -181,
    describe: (m) => `TLS handshake failed: ${m[1]}`,
  },
  {
    pattern: /Failed to resolve '([^']+)'/,
    code: -193,
    describe: (m) => `cannot resolve ${m[1]}`,
  },
  {
    // The first 4 bytes of the answer read as a size; "HTTP" is 1213486160. The first request only:
    // later, a huge size is a real (if too large) Kafka response.
    pattern: brokerLine('Receive failed: Invalid response size (-?\\d+) \\(.*in state APIVERSION_QUERY'),
    code: -195,
    cause: (m) => (isTlsRecord(firstBytes(m[2] as string)) ? 'NOT_PLAIN_KAFKA' : 'NOT_KAFKA'),
    describe: notKafka,
  },
  {
    // A TLS listener closes a connection whose first bytes are not a TLS handshake. PLAINTEXT only:
    // a TLS client's closed connection reads "SSL connection closed".
    pattern: brokerLine(
      'Disconnected: connection closed by peer: receive 0 after POLLIN \\(after \\d+ms in state APIVERSION_QUERY',
      'sasl_plaintext:\\/\\/',
    ),
    code: -195,
    cause: 'NOT_PLAIN_KAFKA',
    // Twice: a broker shutting down may close one new connection so, but not the next (it refuses it).
    times: 2,
    describe: (m) =>
      `${broker(m)} closed the connection at the first Kafka request: this port does not speak plain Kafka, probably a TLS listener`,
  },
  {
    // librdkafka retries every 500 ms and logs each failure: the producer cannot send at all meanwhile.
    pattern: /Failed to acquire (?:idempotence|transactional) PID from broker (\S+): (.*?)(?:: retrying)?$/,
    code: -192,
    cause: 'PRODUCER_ID_UNAVAILABLE',
    describe: (m) => `the producer cannot get a producer id from broker ${m[1]}: ${m[2]}`,
  },
  { pattern: /Topic authorization failed/i, code: 29, describe: () => 'topic authorization failed' },
  { pattern: /Group authorization failed/i, code: 30, describe: () => 'group authorization failed' },
  {
    pattern: /FindCoordinator response error: (?:COORDINATOR_NOT_AVAILABLE|Broker: Coordinator not available)/,
    code: 15,
    describe: () => 'FindCoordinator keeps answering COORDINATOR_NOT_AVAILABLE',
  },
  {
    // The join of a consumer whose coordinator went away (e.g. its broker restarting).
    pattern: /JoinGroup error: (?:Broker: )?Coordinator not available/,
    code: 15,
    describe: () => 'JoinGroup answers COORDINATOR_NOT_AVAILABLE: the group coordinator is moving or not available',
  },
  {
    pattern: /FindCoordinator response error: (?:COORDINATOR_LOAD_IN_PROGRESS|Broker: Coordinator load in progress)/,
    code: 14,
    describe: () => 'the coordinator is loading the group',
  },
  {
    pattern: /Connect to (\S+) failed: Connection refused/,
    code: -195,
    describe: (m) => `connection refused by ${m[1]}: nothing listens there (broker down, or wrong port)`,
  },
  {
    pattern: /all broker connections are down/i,
    code: -187,
    describe: () => 'every broker connection failed',
  },
];

function classificationOf(entry: LogPattern, match: RegExpMatchArray): Classification {
  const finding = entry.describe(match);
  const name = typeof entry.cause === 'function' ? entry.cause(match) : entry.cause;
  const found = name ? namedCause(name, finding) : fromCode(entry.code, finding);
  return { ...found, evidence: match[0].trim(), ...(match.groups?.broker && { broker: match.groups.broker }) };
}

const SUPPRESSED = /(\d+) identical error\(s\) suppressed/;

/** The most specific cause the client's log lines name, if any (newest line wins within a pattern). */
export function causeFromLogs(lines: readonly ClientLogLine[]): Classification | undefined {
  for (const entry of LOG_PATTERNS) {
    let newest: RegExpMatchArray | undefined;
    let seen = 0;
    for (let i = lines.length - 1; i >= 0 && seen < (entry.times ?? 1); i--) {
      const { message } = lines[i] as ClientLogLine;
      const match = message.match(entry.pattern);
      if (!match) continue;
      newest ??= match;
      seen += 1 + Number(SUPPRESSED.exec(message)?.[1] ?? 0);
    }
    if (newest && seen >= (entry.times ?? 1)) return classificationOf(entry, newest);
  }
  return undefined;
}
