/**
 * lambda-kafka writes its log lines and its EMF document (one per invocation, at the end) to stdout
 * through Powertools' Console. During the benchmark they go to /dev/null through this sink, so the
 * terminal is not what is measured: the JSON is still built and written (a synchronous write, as to
 * Lambda's stdout pipe), and the EMF documents are counted to show the flush is included.
 * The report itself is printed through the original stdout.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

type Write = typeof process.stdout.write;

export class StdoutSink {
  /** EMF documents (lines with `"_aws"`) written since install(). */
  emfDocuments = 0;
  lines = 0;
  readonly #original: Write = process.stdout.write;
  #fd: number | undefined;

  install(): void {
    const fd = openSync('/dev/null', 'w');
    this.#fd = fd;
    const write = (chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      this.lines++;
      if (text.includes('"_aws"')) this.emfDocuments++;
      writeSync(fd, text);
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') done();
      return true;
    };
    process.stdout.write = write as Write;
  }

  /** Prints to the real stdout. */
  print(text: string): void {
    this.#original.call(process.stdout, text);
  }

  restore(): void {
    process.stdout.write = this.#original;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
