/**
 * A middy middleware, as Powertools' own utilities offer: it begins and ends each invocation on a
 * KafkaInitializer (what `kafka.handler()` does when it wraps a handler), so a handler built with
 * middy gets the same deadline, logging context and per-invocation metrics.
 *
 * ```ts
 * const kafka = new KafkaInitializer({ logger, metrics });
 * export const handler = middy(async (event, context) => {
 *   const producer = await kafka.producer(kafkaInvocation(context));
 *   ...
 * })
 *   .use(logMetrics(metrics))        // publishes once, after kafkaMiddleware has added its metrics
 *   .use(kafkaMiddleware(kafka));
 * ```
 *
 * Typed structurally: middy is not a dependency of the library.
 *
 * @module lambda-kafka/middy
 */
import type { KafkaInitializer } from './init/initializer.js';
import type { Invocation, InvocationContext } from './init/invocation.js';

const invocations = new WeakMap<object, Invocation>();

/**
 * The part of middy's request the middleware reads.
 * @inline
 */
interface Request {
  /** The Lambda context. */
  context: InvocationContext;
  /** What the handler threw, in `onError`. */
  error?: unknown;
}

/** The middleware: `before` begins the invocation, `after` and `onError` end it (the latter logging the cause). */
export function kafkaMiddleware(kafka: KafkaInitializer) {
  const end = async (request: Request) => {
    const invocation = invocations.get(request.context);
    if (!invocation) return;
    invocations.delete(request.context);
    await kafka.end(invocation);
  };
  return {
    /** Begins the invocation on `kafka`: the Lambda context in the logs, the deadline, the cold start. */
    before: (request: Request): void => {
      invocations.set(request.context, kafka.begin(request.context));
    },
    /** Ends the invocation: waits for the native calls it started, then flushes its metrics. */
    after: end,
    /** Logs the handler's error with its classified cause, then ends the invocation as `after` does. */
    onError: async (request: Request): Promise<void> => {
      if (request.error !== undefined) kafka.logFailure(request.error);
      await end(request);
    },
  };
}

/** The Invocation kafkaMiddleware began for this Lambda context: pass it to `kafka.producer()` and the others. */
export function kafkaInvocation(context: InvocationContext): Invocation {
  const invocation = invocations.get(context);
  if (!invocation) {
    throw new Error('kafkaInvocation(context): no invocation began for this context: add .use(kafkaMiddleware(kafka))');
  }
  return invocation;
}
