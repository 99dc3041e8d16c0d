/** One Lambda invocation as the initializer sees it: its deadline, and what happened before it. */
import { Deadline, type RemainingTime } from '../retry/deadline.js';

/** The Lambda context fields this library reads; a real `Context` has them all. */
export interface InvocationContext extends RemainingTime {
  /** The function's name, for the logs. */
  functionName?: string;
  /** The function's version, for the logs. */
  functionVersion?: string;
  /** The ARN the function was invoked with, for the logs. */
  invokedFunctionArn?: string;
  /** The function's memory, MB, for the logs. */
  memoryLimitInMB?: string;
  /** The invocation's request id, on every log line of the invocation. */
  awsRequestId?: string;
}

/**
 * One invocation, begun by KafkaInitializer.begin() (or handler(), or kafkaMiddleware): pass it to
 * producer(), consumer() and admin(), and its deadline to the sends and waits you make yourself.
 */
export class Invocation {
  /** The Lambda context it was begun with. */
  readonly context: InvocationContext;
  /** Lambda's remaining time less KAFKA_DEADLINE_MARGIN_MS: when the invocation's Kafka work must have ended. */
  readonly deadline: Deadline;
  /** KAFKA_DEADLINE_MARGIN_MS: what `deadline` keeps free before Lambda's own. */
  readonly marginMs: number;
  /** The first invocation of this execution environment. */
  readonly coldStart: boolean;
  /**
   * How long the environment was frozen before this invocation, when that was longer than broker
   * connections or group membership are known to survive; undefined otherwise.
   */
  readonly pauseMs: number | undefined;
  /** Set once the liveness check after a long pause has run in this invocation. */
  livenessChecked = false;
  /** AWS_MSK_IAM: the token's renewal fell due while the environment was frozen (MskIamTokens.due). */
  tokenDue = false;

  constructor(context: InvocationContext, marginMs: number, coldStart: boolean, pauseMs: number | undefined) {
    this.context = context;
    this.deadline = Deadline.fromContext(context, marginMs);
    this.marginMs = marginMs;
    this.coldStart = coldStart;
    this.pauseMs = pauseMs;
  }
}
