/**
 * Fetches each Lambda runtime's Node for each architecture and builds the binding for it, ahead of
 * the tests that package and run them (scripts/setup.sh --tests). Does nothing for what is already built.
 */
import { ARCHITECTURES, ensureNodeRuntime, LAMBDA_RUNTIMES, type LambdaRuntime } from '../lambda/runtimes.js';
import { ensureLambdaBinding } from './binding.js';

const log = (line: string) => console.log(`[setup] ${line}`);
for (const architecture of ARCHITECTURES) {
  for (const runtime of Object.keys(LAMBDA_RUNTIMES) as LambdaRuntime[]) {
    ensureLambdaBinding(ensureNodeRuntime(runtime, log, architecture), log);
  }
}
