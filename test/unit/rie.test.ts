/** How the RIE harness reads RIE's answers, and what the bootstrap it installs starts. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { OutputLines, readAnswer } from '../../scripts/lambda/rie-answer.js';
import { bootstrapScript } from '../../scripts/lambda/rie-install.js';

describe("reading RIE's answer to an invocation", () => {
  it('takes a 200 with JSON as the handler result', () => {
    expect(readAnswer(200, '{"sent":3}')).toEqual({ ok: true, value: { sent: 3 }, timedOut: false });
  });

  it('takes an empty body as a handler that returned nothing', () => {
    expect(readAnswer(200, '')).toEqual({ ok: true, value: undefined, timedOut: false });
  });

  it("reports the RIC's error document as the error, with its trace", () => {
    const body = JSON.stringify({ errorType: 'TypeError', errorMessage: 'boom', trace: ['TypeError: boom'] });
    expect(readAnswer(200, body)).toEqual({
      ok: false,
      error: { errorType: 'TypeError', errorMessage: 'boom', trace: ['TypeError: boom'] },
      timedOut: false,
    });
  });

  it('reports "Task timed out after N.00 seconds" as a timeout', () => {
    expect(readAnswer(200, 'Task timed out after 3.00 seconds')).toEqual({
      ok: false,
      error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 3.00 seconds' },
      timedOut: true,
    });
  });

  it("reports a 502 without an error document as RIE's failure, with RIE's log", () => {
    const outcome = readAnswer(502, '', ['[ERROR] (rapid) Init failed error=open /dev/null: no such file']);
    expect(outcome).toMatchObject({ ok: false, timedOut: false, error: { errorType: 'Rie.InvokeFailed' } });
    expect(outcome.error?.errorMessage).toBe(
      'RIE answered HTTP 502: (no body)\n[ERROR] (rapid) Init failed error=open /dev/null: no such file',
    );
  });

  it('keeps a result that is not JSON as text', () => {
    expect(readAnswer(200, 'plain')).toEqual({ ok: true, value: 'plain', timedOut: false });
  });
});

describe('the /var/runtime/bootstrap it installs', () => {
  /** What the bootstrap would exec, with `env`: process.execve replaced by a print. */
  function execOf(
    env: Record<string, string>,
    emulator?: string,
  ): { file: string; args: string[]; env: Record<string, string> } {
    const script = bootstrapScript('nodejs22.x', 22, emulator);
    const run = `process.execve = (file, args, env) => console.log(JSON.stringify({ file, args, env }));
      require('node:vm').runInThisContext(${JSON.stringify(script)});`;
    return JSON.parse(execFileSync(process.execPath, ['-e', run], { env, encoding: 'utf8' }));
  }

  it("execs the runtime's node on the RIC with Lambda's options and heap limits from the memory size", () => {
    const { file, args, env } = execOf({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' });
    expect(file).toBe('/var/lang/bin/node');
    expect(args).toEqual([
      '/var/lang/bin/node',
      '--expose-gc',
      '--max-http-header-size',
      '81920',
      '--max-semi-space-size=51',
      '--max-old-space-size=922',
      '/var/runtime/index.mjs',
    ]);
    expect(env.AWS_EXECUTION_ENV).toBe('AWS_Lambda_nodejs22.x');
    expect(env.NODE_PATH).toBe(
      '/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task',
    );
  });

  it("in an arm64 root on x86_64, starts through QEMU's static emulator: its interpreter line and its exec", () => {
    const emulator = '/usr/bin/qemu-aarch64-static';
    const { file, args } = execOf({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' }, emulator);
    expect(bootstrapScript('nodejs22.x', 22, emulator).split('\n')[0]).toBe(`#!${emulator} /var/lang/bin/node`);
    expect(file).toBe(emulator);
    expect(args).toEqual([
      emulator,
      '/var/lang/bin/node',
      '--expose-gc',
      '--max-http-header-size',
      '81920',
      '--max-semi-space-size=51',
      '--max-old-space-size=922',
      '/var/runtime/index.mjs',
    ]);
  });

  it("keeps the function's own NODE_PATH, and sets no heap limit without a memory size", () => {
    const { args, env } = execOf({ NODE_PATH: '/opt/mine' });
    expect(args).toEqual([
      '/var/lang/bin/node',
      '--expose-gc',
      '--max-http-header-size',
      '81920',
      '/var/runtime/index.mjs',
    ]);
    expect(env.NODE_PATH).toBe('/opt/mine');
  });
});

describe("RIE's stdout, line by line", () => {
  const info = JSON.stringify({
    level: 'INFO',
    message: 'Producer started successfully',
    function_arn: 'arn:aws:lambda:x',
  });
  const warn = JSON.stringify({ level: 'WARN', message: 'Disconnected', client: 'producer' });
  const metrics = JSON.stringify({ _aws: { Timestamp: 1 }, messages_produced: 3 });
  const read = (lines: string[]) => {
    const whole = new OutputLines();
    return lines.flatMap((line) => whole.push(line));
  };

  it('passes whole lines through as they are', () => {
    expect(
      read(['START RequestId: 1 Version: $LATEST', info, warn, metrics, 'plain text', 'END RequestId: 1']),
    ).toEqual(['START RequestId: 1 Version: $LATEST', info, warn, metrics, 'plain text', 'END RequestId: 1']);
  });

  it("puts a record cut by the other stream's line together again", () => {
    // What the rolling-restart test read once under load: stdout's INFO cut, stderr's WARN, the rest of the INFO.
    const cut = info.indexOf('function_arn') + 4;
    expect(read([info.slice(0, cut) + warn, info.slice(cut), metrics])).toEqual([warn, info, metrics]);
  });

  it('puts a record together that ends a read line and goes on in the next', () => {
    const cut = info.indexOf('function_arn') + 4;
    expect(read([warn + info.slice(0, cut), info.slice(cut), metrics])).toEqual([warn, info, metrics]);
  });

  it('puts a record together around a line of plain text the other stream wrote into it', () => {
    // The cut record, then stderr's plain line, then the record's end on the next line. (Text that
    // lands inside a JSON string leaves a record that parses: that one cannot be told apart.)
    const cut = info.indexOf('"function_arn":') + '"function_arn":'.length;
    const plain = 'error: a plain line from the other stream';
    expect(read([info.slice(0, cut) + plain, info.slice(cut), metrics])).toEqual([plain, info, metrics]);
  });

  it('drops a cut record that nothing continues, and keeps the lines around it', () => {
    expect(read([`{"level":"INFO","message":"cut${warn}`, 'START RequestId: 2 Version: $LATEST'])).toEqual([
      warn,
      'START RequestId: 2 Version: $LATEST',
    ]);
  });
});
