/**
 * Builds AWS's Lambda runtime pieces the RIE tests run the package with (test/integration/rie.test.ts):
 * the Runtime Interface Emulator and, for each runtime, the Node.js Runtime Interface Client
 * (scripts/setup.sh --tests). Does nothing for what is already built in .build/tools/.
 */
import { ensureRuntimeInterface } from './ric.js';
import { ARCHITECTURES, LAMBDA_RUNTIMES, type LambdaRuntime } from './runtimes.js';

const log = (line: string) => console.log(`[setup] ${line}`);
for (const architecture of ARCHITECTURES) {
  for (const runtime of Object.keys(LAMBDA_RUNTIMES) as LambdaRuntime[])
    ensureRuntimeInterface(runtime, log, architecture);
}
