/**
 * valibot schemas for single environment variables. Every variable arrives as a string;
 * each schema says in its messages what it expected, so a problem reads as a fix.
 */
import * as v from 'valibot';

const TRUE_WORDS = ['true', '1', 'yes', 'on'] as const;
const FALSE_WORDS = ['false', '0', 'no', 'off'] as const;

/** `true/false`, `1/0`, `yes/no`, `on/off` in any case; anything else is an error (unlike `v.toBoolean()`). */
export const boolean = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.picklist([...TRUE_WORDS, ...FALSE_WORDS], 'expected true or false (also accepted: 1/0, yes/no, on/off)'),
  v.transform((word) => (TRUE_WORDS as readonly string[]).includes(word)),
);

/** A whole number in [min, max]. */
export function wholeNumber(min: number, max: number) {
  const expected = `expected a whole number from ${min} to ${max}`;
  return v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^-?\d+$/, expected),
    v.transform(Number),
    v.minValue(min, expected),
    v.maxValue(max, expected),
  );
}

/** A duration in seconds (decimals allowed), converted to milliseconds. */
export function secondsAsMs(minSeconds: number, maxSeconds: number) {
  const expected = `expected a number of seconds from ${minSeconds} to ${maxSeconds}`;
  return v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d+(\.\d+)?$/, expected),
    v.transform(Number),
    v.minValue(minSeconds, expected),
    v.maxValue(maxSeconds, expected),
    v.transform((seconds) => Math.round(seconds * 1000)),
  );
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?):(\d{1,5})$/;

/** `host:port[,host:port...]`; IPv6 hosts in brackets. */
export const bootstrapServers = v.pipe(
  v.string(),
  v.trim(),
  v.transform((list) =>
    list
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  ),
  v.minLength(1, 'expected at least one broker as host:port'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const entry of dataset.value) {
      if (/^[a-z_]+:\/\//i.test(entry)) {
        addIssue({
          message: `"${entry}" has a protocol prefix: list brokers as host:port (security comes from KAFKA_USE_SSL and KAFKA_SASL_MECHANISM)`,
        });
        continue;
      }
      const match = HOST_PORT.exec(entry);
      const port = match ? Number(match[3]) : 0;
      if (!match || port < 1 || port > 65535) {
        addIssue({ message: `"${entry}" is not host:port (e.g. b-1.mycluster.kafka.eu-west-1.amazonaws.com:9096)` });
      }
    }
  }),
);

/** Kafka's legal topic names: letters, digits, `.`, `_`, `-`, at most 249 characters. */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const illegalTopic = (name: string) =>
  `"${name}" is not a legal topic name (letters, digits, ".", "_", "-"; at most 249 characters)`;

/** One topic name, trimmed. */
export const topicName = v.pipe(
  v.string(),
  v.trim(),
  v.check(
    (name) => LEGAL_TOPIC.test(name) && name !== '.' && name !== '..',
    (issue) => illegalTopic(issue.input),
  ),
);

export const topicList = v.pipe(
  v.string(),
  v.transform((list) => [
    ...new Set(
      list
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    ),
  ]),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const name of dataset.value) {
      if (!LEGAL_TOPIC.test(name) || name === '.' || name === '..') addIssue({ message: illegalTopic(name) });
    }
  }),
);

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'AWS_MSK_IAM'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export const saslMechanism = v.pipe(
  v.string(),
  v.trim(),
  v.toUpperCase(),
  v.picklist(SASL_MECHANISMS, `expected one of ${SASL_MECHANISMS.join(', ')}`),
);

export const nonEmptyText = v.pipe(v.string(), v.trim(), v.minLength(1, 'expected a non-empty value'));

/** A PEM block given inline; `\n` escapes (common when PEMs pass through env files or consoles) become newlines. */
export function inlinePem(kind: 'CERTIFICATE' | 'PRIVATE KEY') {
  const expected =
    kind === 'CERTIFICATE'
      ? 'expected PEM text starting with -----BEGIN CERTIFICATE-----'
      : 'expected PEM text starting with -----BEGIN PRIVATE KEY----- (or RSA/EC/ENCRYPTED PRIVATE KEY)';
  return v.pipe(
    v.string(),
    v.transform((text) => (text.includes('\n') ? text : text.replaceAll('\\n', '\n')).trim()),
    v.check((text) => new RegExp(`^-----BEGIN [A-Z ]*${kind}-----`).test(text), expected),
  );
}
