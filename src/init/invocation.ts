/** One Lambda invocation as the initializer sees it: its deadline, and what happened before it. */
import { Deadline, type RemainingTime } from '../retry/deadline.js';

/** The Lambda context fields this library reads; a real `Context` has them all. */
export interface InvocationContext extends RemainingTime {
  functionName?: string;
  functionVersion?: string;
  invokedFunctionArn?: string;
  memoryLimitInMB?: string;
  awsRequestId?: string;
}

export class Invocation {
  readonly context: InvocationContext;
  readonly deadline: Deadline;
  /** KAFKA_DEADLINE_MARGIN_MS: what `deadline` keeps free before Lambda's own. */
  readonly marginMs: number;
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
