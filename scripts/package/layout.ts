/** Where builds and fetched tools live: `.build/` at the repository root, ignored by git. */
import { join } from 'node:path';
import { REPO_ROOT } from '../kafka/layout.js';

export const BUILD_DIR = process.env.LAMBDA_KAFKA_BUILD_DIR ?? join(REPO_ROOT, '.build');
/** Self-contained bindings, one directory per (binding version, Node major, recipe). */
export const BINDINGS_DIR = join(BUILD_DIR, 'binding');
/** The deployment package: the staged tree and the zip, per runtime. */
export const PACKAGE_DIR = join(BUILD_DIR, 'package');

/** The zip of one runtime and architecture, e.g. lambda-kafka-nodejs22.x-arm64.zip (serverless.yml's artifact). */
export function packageZip(runtime: string, architecture = 'x86_64'): string {
  return join(PACKAGE_DIR, `lambda-kafka-${packageName(runtime, architecture)}.zip`);
}

/** The staged tree's and the zip's name: nodejs22.x-x86_64, nodejs24.x-arm64… */
export function packageName(runtime: string, architecture = 'x86_64'): string {
  return `${runtime}-${architecture}`;
}
