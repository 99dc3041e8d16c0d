/** A produce request's messages: the plain-message check without the schema gives the schema's answer for every shape. */
import { describe, expect, it } from 'vitest';
import { type MessageRules, parseMessage, parseWithSchema } from '../../src/produce/messages.js';

const withDefault: MessageRules = { defaultTopic: 'orders', allowedTopics: ['orders', 'refunds'] };
const noTopics: MessageRules = { defaultTopic: undefined, allowedTopics: [] };
const forCaller: MessageRules = { ...withDefault, forCaller: true };

/** Every shape the two paths must agree on: the usual ones, and each way of being a little off. */
const inputs: Record<string, unknown> = {
  'a value': { value: 'x' },
  'an empty value': { value: '' },
  'a key and a value': { key: 'k', value: 'x' },
  'a null key': { key: null, value: 'x' },
  'an undefined key': { key: undefined, value: 'x' },
  'a topic': { topic: 'refunds', value: 'x' },
  'a topic, key and value': { topic: 'orders', key: 'k', value: 'x' },
  'a topic not allowed': { topic: 'payroll', value: 'x' },
  'an illegal topic name': { topic: 'no spaces', value: 'x' },
  'an empty topic': { topic: '', value: 'x' },
  'a topic that is not a string': { topic: 7, value: 'x' },
  'a null value (tombstone)': { value: null },
  'a JSON value': { value: { a: 1 } },
  'a number value': { value: 42 },
  'no value': { key: 'k' },
  'an undefined value': { value: undefined },
  'a numeric key': { key: 1, value: 'x' },
  headers: { value: 'x', headers: { h: 'v' } },
  'headers undefined': { value: 'x', headers: undefined },
  'a header value that is not a string': { value: 'x', headers: { h: 1 } },
  'an unknown field': { value: 'x', extra: true },
  'an array': ['x'],
  'a string': 'x',
  null: null,
  'an object of another class': new (class Message {
    value = 'x';
  })(),
  'an object without a prototype': Object.assign(Object.create(null), { value: 'x' }),
};

describe('parseMessage', () => {
  for (const [rulesName, rules] of Object.entries({ withDefault, noTopics, forCaller })) {
    for (const [name, input] of Object.entries(inputs)) {
      it(`answers ${name} as the schema does (${rulesName})`, () => {
        expect(parseMessage(input, rules)).toEqual(parseWithSchema(input, rules));
      });
    }
  }

  it('gives a message without headers an empty header map that nothing can change', () => {
    const parsed = parseMessage({ value: 'x' }, withDefault);
    expect(parsed).toEqual({ ok: true, message: { topic: 'orders', key: null, value: 'x', headers: {} } });
    if (!parsed.ok) throw new Error('not parsed');
    expect(Object.isFrozen(parsed.message.headers)).toBe(true);
  });
});
