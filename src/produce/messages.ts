/**
 * The messages a produce request carries, from the three event shapes the produce function
 * accepts, validated one by one so that one bad message never hides the others.
 *
 *   direct invocation:  { "messages": [ { "topic"?, "key"?, "value", "headers"? }, ... ] }
 *   SQS batch:          one message per record, the record body being one such message as JSON
 *   HTTP API (v2):      a JSON body, either { "messages": [...] } or a single message
 *
 * `value` is a string, or any JSON value (sent as its JSON text); null sends a tombstone.
 */
import * as v from 'valibot';

const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

const MessageSchema = v.strictObject({
  topic: v.optional(v.pipe(v.string(), v.regex(TOPIC, 'is not a legal topic name'))),
  key: v.optional(v.nullable(v.string('must be a string'))),
  value: v.pipe(
    v.unknown(),
    v.check((value) => value !== undefined, 'is required (null sends a tombstone)'),
  ),
  headers: v.optional(v.record(v.string(), v.string('header values must be strings'))),
});

export interface OutgoingMessage {
  topic: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export type Parsed = { ok: true; message: OutgoingMessage } | { ok: false; error: string };

export interface MessageRules {
  /** Topic of a message that names none; undefined when KAFKA_TOPICS is empty. */
  defaultTopic: string | undefined;
  /** When KAFKA_TOPICS is set, the only topics a message may name. */
  allowedTopics: readonly string[];
  /**
   * Errors for a caller over HTTP rather than the operator: a topic problem is stated without the
   * variable that configures it or the list of allowed topics, which are the deployment's business.
   */
  forCaller?: boolean;
}

function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .map((issue) => {
      const path = issue.path?.map((item) => String(item.key)).join('.');
      return path ? `${path} ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** The fields a message checked without the schema may have (one with headers goes to the schema). */
const PLAIN_FIELDS = new Set(['topic', 'key', 'value']);
/** The header map of a message that has none: one object for all of them, never changed. */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Validates one message (any JSON input) against the schema and the topic rules. */
export function parseMessage(input: unknown, rules: MessageRules): Parsed {
  return plainMessage(input, rules) ?? parseWithSchema(input, rules);
}

/**
 * The usual message, a plain object with a string `value` and at most a string (or null) `key` and
 * a legal `topic`, checked without the schema: valibot's safeParse is most of the validation of a
 * 1-message invocation, which at 128 MB runs at 7 % of a core. Anything else (headers, a JSON
 * value, an error to describe) is undefined here and goes to the schema, which stays the reference:
 * a unit test holds both to the same answer for every shape.
 */
function plainMessage(input: unknown, rules: MessageRules): Parsed | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype)
    return undefined;
  const { topic, key, value } = input as { topic?: unknown; key?: unknown; value?: unknown };
  if (typeof value !== 'string') return undefined;
  if (key !== undefined && key !== null && typeof key !== 'string') return undefined;
  if (topic !== undefined && (typeof topic !== 'string' || !TOPIC.test(topic))) return undefined;
  for (const name in input) if (!PLAIN_FIELDS.has(name)) return undefined;
  return withTopic((topic as string | undefined) ?? rules.defaultTopic, key ?? null, value, NO_HEADERS, rules);
}

/** Validates one message against the schema (every shape, and the description of what is wrong). */
export function parseWithSchema(input: unknown, rules: MessageRules): Parsed {
  const result = v.safeParse(MessageSchema, input);
  if (!result.success) return { ok: false, error: describeIssues(result.issues) };
  const { topic = rules.defaultTopic, key = null, value, headers = NO_HEADERS } = result.output;
  const text = value === null ? null : typeof value === 'string' ? value : JSON.stringify(value);
  return withTopic(topic, key, text, headers, rules);
}

/** The topic rules: one is needed, and when KAFKA_TOPICS is set it must be one of them. */
function withTopic(
  topic: string | undefined,
  key: string | null,
  value: string | null,
  headers: Record<string, string>,
  rules: MessageRules,
): Parsed {
  if (!topic) {
    const error = rules.forCaller
      ? 'topic is required'
      : 'topic is required: name one, or set KAFKA_TOPICS to give a default';
    return { ok: false, error };
  }
  if (rules.allowedTopics.length > 0 && !rules.allowedTopics.includes(topic)) {
    const error = rules.forCaller
      ? `topic "${topic}" is not allowed`
      : `topic "${topic}" is not one of KAFKA_TOPICS (${rules.allowedTopics.join(', ')})`;
    return { ok: false, error };
  }
  return { ok: true, message: { topic, key, value, headers } };
}

/** Parses JSON text into a message; a body that is not JSON is one invalid message. */
export function parseMessageText(text: string, rules: MessageRules): Parsed {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  return parseMessage(input, rules);
}

/** A `{ messages: [...] }` request; the list itself must be a non-empty array. */
export function parseMessageList(input: unknown, rules: MessageRules, limit = 10_000): Parsed[] | string {
  const list = (input as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(list)) return 'expected { "messages": [ { "value": ... }, ... ] }';
  if (list.length === 0) return 'messages is empty';
  if (list.length > limit) return `at most ${limit} messages per request, got ${list.length}`;
  return list.map((item) => parseMessage(item, rules));
}
