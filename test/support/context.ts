/** A Lambda context as the runtime passes it, for calling a handler or `begin()` in-process. */
import { uniqueName } from './kafka.js';

/** `remainingMs` from now until the invocation's deadline, and a request id of its own. */
export function lambdaContext(remainingMs = 30_000) {
  const end = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => end - Date.now(), awsRequestId: uniqueName('request') };
}
