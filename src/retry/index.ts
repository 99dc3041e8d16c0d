export { type BackoffOptions, backoffDelay } from './backoff.js';
export { type BreakerOptions, type BreakerSnapshot, type BreakerState, CircuitBreaker } from './breaker.js';
export { Deadline, type RemainingTime } from './deadline.js';
export { type AttemptContext, type FailedAttempt, type RetryOptions, retryUntilDeadline } from './retry.js';
