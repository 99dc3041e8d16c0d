/**
 * The causes a librdkafka code is too generic for (KAFKA_CAUSES, the companion of table.ts), and
 * the classifications built from both tables: from a code, from a named cause, and the few this
 * library states itself (missing topics). Every surface that names a cause (an error, an HTTP
 * answer, a health reason, diagnose) gets it from here, so the same fault reads the same everywhere.
 */
import type { Classification } from './classify.js';
import { ERROR_KINDS, type ErrorKind, KAFKA_ERRORS_BY_CODE } from './table.js';

const { config } = ERROR_KINDS;

/**
 * A cause that a librdkafka code does not tell apart: the code is what the call failed with (a
 * PLAINTEXT client on a TLS port fails with the same -195 as a broker that is down), the name,
 * kind and hint are what the log line or the TLS handshake showed. Found by LOG_PATTERNS
 * (log-patterns.ts) and by the TLS checks in src/ssl/tls-causes.ts.
 */
export interface KafkaCauseEntry {
  name: string;
  /** The librdkafka code the failing call reports for it. */
  code: number;
  kind: ErrorKind;
  hint: string;
}

export const KAFKA_CAUSES: readonly KafkaCauseEntry[] = [
  {
    name: 'NOT_PLAIN_KAFKA',
    code: -195,
    kind: config,
    hint: "Set KAFKA_USE_SSL=true (the broker's SSL or SASL_SSL listener), or put the broker's PLAINTEXT port in KAFKA_BOOTSTRAP_SERVERS.",
  },
  {
    name: 'NOT_KAFKA',
    code: -195,
    kind: config,
    hint: "Check the host and port in KAFKA_BOOTSTRAP_SERVERS: they must be a Kafka listener's (Amazon MSK: 9092 plaintext, 9094 TLS, 9096 SASL/SCRAM, 9098 IAM).",
  },
  {
    name: 'NOT_TLS',
    code: -181,
    kind: config,
    hint: "Set KAFKA_USE_SSL=false, or put the broker's TLS port (its SSL or SASL_SSL listener) in KAFKA_BOOTSTRAP_SERVERS.",
  },
  {
    name: 'BROKER_CERTIFICATE_REJECTED',
    code: -181,
    kind: config,
    hint:
      'The broker certificate is not issued by the CA in KAFKA_SSL_CAFILE / KAFKA_SSL_CA_PEM (or the system store when neither is set), ' +
      'does not cover the address in KAFKA_BOOTSTRAP_SERVERS, or has expired: `lambda-kafka diagnose` tells which.',
  },
  {
    name: 'BROKER_CERTIFICATE_UNTRUSTED',
    code: -181,
    kind: config,
    hint: 'Set KAFKA_SSL_CAFILE (or KAFKA_SSL_CA_PEM) to the CA that issued the broker certificate; `openssl s_client -connect <broker> -showcerts` shows the chain the broker presents.',
  },
  {
    name: 'BROKER_CERTIFICATE_NAME_MISMATCH',
    code: -181,
    kind: config,
    hint: "Connect with a name the certificate covers (in KAFKA_BOOTSTRAP_SERVERS, or the brokers' advertised.listeners), or reissue the broker certificate with this address in its subject alternative names.",
  },
  {
    name: 'BROKER_CERTIFICATE_EXPIRED',
    code: -181,
    kind: config,
    hint: 'Renew the broker certificate (or correct the clock of the machine that issued it): no client setting can fix this.',
  },
  {
    name: 'CLIENT_CERTIFICATE_REQUIRED',
    code: -181,
    kind: config,
    hint: 'This listener requires mutual TLS: set KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE (or KAFKA_SSL_CERT_PEM and KAFKA_SSL_KEY_PEM) to a certificate from a CA the broker trusts, or use a listener without client authentication.',
  },
  {
    name: 'CLIENT_CERTIFICATE_REFUSED',
    code: -181,
    kind: config,
    hint: "Use a client certificate (KAFKA_SSL_CERTFILE / KAFKA_SSL_CERT_PEM) issued by a CA in the broker's truststore and within its validity dates, or add its CA to the broker's truststore.",
  },
  {
    // AWS_MSK_IAM: the broker's OAUTHBEARER answer (RFC 7628) refused the signed token.
    name: 'MSK_IAM_TOKEN_REFUSED',
    code: -169,
    kind: config,
    hint: "The broker refused the token signed with the function role's credentials (AWS_MSK_IAM): AWS_REGION must be the cluster's region, the role's credentials current and its policy must allow kafka-cluster:Connect on the cluster (and the topic and group actions used), and the clock right (5 minutes of skew at most).",
  },
  {
    // A token that expired before it reached the broker: a new one is signed on the next attempt.
    name: 'MSK_IAM_TOKEN_EXPIRED',
    code: -169,
    kind: ERROR_KINDS.transient,
    hint: 'The broker received an AWS_MSK_IAM token past its expiry (a connection made with a token signed before a freeze, or a clock behind): a new token is signed for the next attempt. If it persists, check the clock and that the credentials are not about to expire.',
  },
  {
    name: 'MSK_IAM_SIGNING_FAILED',
    code: -169,
    kind: config,
    hint: 'No AWS_MSK_IAM token could be signed, so no broker was asked: the function needs the package aws-msk-iam-sasl-signer-js, AWS_REGION, and current role credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, which Lambda sets).',
  },
  {
    // Sends wait for it: librdkafka's messages time out in the end (-192).
    name: 'PRODUCER_ID_UNAVAILABLE',
    code: -192,
    kind: ERROR_KINDS.transient,
    hint: 'An idempotent producer needs a producer id (InitProducerId) before it can send, and the brokers cannot give one now: the KRaft controller quorum or the transaction coordinator is unavailable (a majority of controllers down, or brokers restarting). Check the cluster; every send waits until it is back.',
  },
];

export const KAFKA_CAUSES_BY_NAME: ReadonlyMap<string, KafkaCauseEntry> = new Map(KAFKA_CAUSES.map((c) => [c.name, c]));

/** A classification from a librdkafka code and the message that came with it. */
export function fromCode(code: number, message: string, nativeRetriable?: boolean): Classification {
  const entry = KAFKA_ERRORS_BY_CODE.get(code);
  const kind: ErrorKind = entry?.kind ?? (nativeRetriable ? 'transient' : 'fatal');
  const name = entry?.name ?? `UNKNOWN_${code}`;
  return {
    code,
    name,
    kind,
    retriable: kind === 'transient',
    hint:
      entry?.hint ??
      'An error this library does not know; it is not retried. See the message and the librdkafka documentation.',
    summary: `${name} (${code}): ${message}`,
  };
}

/**
 * A classification for a cause of KAFKA_CAUSES: its code, kind and hint, and what was found. The
 * hint's `<broker>` becomes the broker's address when it is known.
 */
export function namedCause(name: string, finding: string, broker?: string): Classification {
  const entry = KAFKA_CAUSES_BY_NAME.get(name);
  if (!entry) throw new Error(`No cause named ${name} in KAFKA_CAUSES`);
  return {
    code: entry.code,
    name,
    kind: entry.kind,
    retriable: entry.kind === 'transient',
    hint: broker === undefined ? entry.hint : entry.hint.replaceAll('<broker>', broker),
    summary: `${name} (${entry.code}): ${finding}`,
    ...(broker !== undefined && { broker }),
  };
}

/** A TLS client on a port that does not speak TLS: from librdkafka's log and from a handshake of our own alike. */
export function notTlsFinding(broker: string): string {
  return `${broker} does not speak TLS (a PLAINTEXT listener?)`;
}

/** KAFKA_TOPICS names topics the cluster does not have (and KAFKA_CREATE_TOPICS is off). */
export function missingTopicsCause(missing: readonly string[]): Classification {
  const list = missing.join(', ');
  const one = missing.length === 1;
  return {
    code: 3,
    name: 'UNKNOWN_TOPIC_OR_PART',
    kind: 'config',
    retriable: false,
    summary: `UNKNOWN_TOPIC_OR_PART (3): topic${one ? '' : 's'} ${list} ${one ? 'does' : 'do'} not exist`,
    hint: `Create ${list}, or set KAFKA_CREATE_TOPICS=true to let the function create ${one ? 'it' : 'them'}.`,
  };
}
