import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { remoteContext, startBatch, startSend, tracingActive, withTraceId } from '../../src/observability/tracing.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const config = (env: Record<string, string> = {}) =>
  loadConfig({ KAFKA_BOOTSTRAP_SERVERS: 'b1.example:9092,b2.example:9092', ...env });
const messages = () => [{ topic: 'orders', key: 'k', value: 'v', headers: { own: 'header' } }];
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

describe('tracing with no OpenTelemetry SDK registered', () => {
  it('starts no span and leaves the messages as they are', () => {
    expect(tracingActive(config())).toBe(false);
    expect(startSend(config(), messages())).toBeUndefined();
    expect(startBatch(config(), [{ topic: 'orders', partition: 0, offset: 1, headers: {} }])).toBeUndefined();
  });

  it('does not load @opentelemetry/api until an SDK registers (20 ms of CPU at a cold start)', () => {
    // A process of its own: this one has the API loaded. Installed or not, it is loaded only once needed.
    const script = `
      import { createRequire } from 'node:module';
      const root = ${JSON.stringify(ROOT)};
      const { loadConfig } = await import(root + '/src/config/load.ts');
      const { tracingActive } = await import(root + '/src/observability/tracing.ts');
      const require = createRequire(root + '/src/observability/tracing.ts');
      const loaded = () => Object.keys(require.cache).some((path) => path.includes('@opentelemetry/api'));
      const config = loadConfig({ KAFKA_BOOTSTRAP_SERVERS: 'b1.example:9092' });
      const before = [tracingActive(config), loaded()];
      const { trace } = require('@opentelemetry/api');
      const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
      trace.setGlobalTracerProvider(new BasicTracerProvider());
      console.log(JSON.stringify({ before, after: [tracingActive(config), loaded()] }));`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(JSON.parse(output)).toEqual({ before: [false, false], after: [true, true] });
  });
});

describe("a message's W3C trace context", () => {
  it.each<[string, string | undefined]>([
    [`00-${TRACE_ID}-${SPAN_ID}-01`, 'sampled'],
    [`00-${TRACE_ID}-${SPAN_ID}-00`, 'not sampled'],
    [`01-${TRACE_ID}-${SPAN_ID}-01-extra`, 'sampled'],
    [`00-${TRACE_ID}-${SPAN_ID}-01-extra`, undefined],
    [`ff-${TRACE_ID}-${SPAN_ID}-01`, undefined],
    [`00-${'0'.repeat(32)}-${SPAN_ID}-01`, undefined],
    [`00-${TRACE_ID}-${'0'.repeat(16)}-01`, undefined],
    [`00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`, undefined],
    [`00-${TRACE_ID}-${SPAN_ID}`, undefined],
    ['not a traceparent', undefined],
  ])('%s is %s', (value, expected) => {
    const context = remoteContext({ traceparent: value });
    if (expected === undefined) expect(context).toBeUndefined();
    else
      expect(context).toEqual({
        traceId: TRACE_ID,
        spanId: SPAN_ID,
        traceFlags: expected === 'sampled' ? 1 : 0,
        isRemote: true,
      });
  });

  it('is absent from a message without the header', () => {
    expect(remoteContext({})).toBeUndefined();
    expect(remoteContext(undefined)).toBeUndefined();
  });
});

describe('withTraceId', () => {
  it("adds trace_id to every line, keeping the line's own fields", () => {
    const lines: unknown[] = [];
    const log = {
      debug: () => {},
      info: (m: string, e?: object) => lines.push([m, e]),
      warn: () => {},
      error: () => {},
    };
    withTraceId(log, TRACE_ID).info('Handled', { key: 'k' });
    withTraceId(log, undefined).info('plain');
    expect(lines).toEqual([
      ['Handled', { key: 'k', trace_id: TRACE_ID }],
      ['plain', undefined],
    ]);
  });
});

describe('tracing once an SDK is registered', () => {
  const exporter = new InMemorySpanExporter();
  afterAll(() => trace.disable());

  it('starts a PRODUCER span, and puts its context in copies of the messages', () => {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const original = messages();
    const send = startSend(config(), original);
    send?.end([{ ok: true, partition: 2, offset: '41' }]);

    expect(tracingActive(config())).toBe(true);
    expect(original[0]?.headers).toEqual({ own: 'header' });
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('send orders');
    expect(span?.attributes).toMatchObject({
      'messaging.destination.partition.id': '2',
      'messaging.kafka.offset': 41,
      'server.address': 'b1.example',
      'server.port': 9092,
    });
    const { traceId, spanId } = span?.spanContext() ?? {};
    expect(send?.messages[0]?.headers).toEqual({ own: 'header', traceparent: `00-${traceId}-${spanId}-01` });
  });

  it('starts none with KAFKA_TRACING=false', () => {
    expect(startSend(config({ KAFKA_TRACING: 'false' }), messages())).toBeUndefined();
    expect(tracingActive(config({ KAFKA_TRACING: 'false' }))).toBe(false);
  });
});
