/** How the RIE harness reads RIE's answers, and what the bootstrap it installs starts. */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { OutputFile, readAnswer } from '../../scripts/lambda/rie-answer.js';
import { bootstrapScript } from '../../scripts/lambda/rie-install.js';
import { lambdaNodeOptions } from '../../scripts/lambda/runtimes.js';

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

  it('gives node the options the shapes benchmark starts its children with, at every size', () => {
    for (const memory of [128, 512, 1024, 1769, 3008, 10_240]) {
      const { args } = execOf({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memory) });
      expect(args.slice(1, -1)).toEqual(lambdaNodeOptions(memory));
    }
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

describe("RIE's stdout, read from the file it appends to", () => {
  const file = () => join(mkdtempSync(join(tmpdir(), 'rie-output-')), 'stdout');

  it('returns whole lines only, and a line written in pieces once its end is there', () => {
    const path = file();
    const append = openSync(path, 'a');
    const output = new OutputFile(path);
    writeSync(append, 'START RequestId: 1\n{"level":"INFO","message":"ca');
    expect(output.read()).toEqual(['START RequestId: 1']);
    // A character cut between two writes (é is two bytes) comes out whole.
    writeSync(append, Buffer.from('fé"}\n{"level"').subarray(0, 3));
    expect(output.read()).toEqual([]);
    writeSync(append, Buffer.from('fé"}\n{"level"').subarray(3));
    expect(output.read()).toEqual(['{"level":"INFO","message":"café"}']);
    writeSync(append, ':"WARN"}');
    closeSync(append);
    expect(output.close()).toEqual(['{"level":"WARN"}']);
  });

  it('keeps every record of a process writing to stdout and stderr at once whole, read while it writes', async () => {
    // Both streams appended to one file, as RIE hands the runtime its stdout for both.
    const path = file();
    const append = openSync(path, 'a');
    const script = [
      "const c = new (require('node:console').Console)({ stdout: process.stdout, stderr: process.stderr });",
      "const pad = 'x'.repeat(300);",
      'for (let i = 0; i < 50000; i++) i % 50 ? c.info(JSON.stringify({ i, pad })) : c.warn(JSON.stringify({ i, pad }));',
    ].join('\n');
    const writer = spawn(process.execPath, ['-e', script], { stdio: ['ignore', append, append] });
    closeSync(append);
    const output = new OutputFile(path);
    const lines: string[] = [];
    const exited = new Promise((resolve) => writer.once('exit', resolve));
    for (let done = false; !done; ) {
      done = await Promise.race([exited.then(() => true), sleep(5).then(() => false)]);
      lines.push(...output.read());
    }
    lines.push(...output.close());
    expect(lines).toHaveLength(50_000);
    const numbers = lines.map((line) => (JSON.parse(line) as { i: number }).i);
    expect(new Set(numbers).size).toBe(50_000);
  });
});
