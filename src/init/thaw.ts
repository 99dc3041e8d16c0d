/**
 * Freeze and thaw. Lambda freezes an environment between invocations; a pause longer than the
 * broker keeps idle connections (connections.max.idle.ms) or than the group keeps a silent member
 * (session.timeout.ms) leaves dead connections or an evicted consumer behind. One metadata call
 * tells whether the connections survived; the session is gone by arithmetic.
 */
import type { ManagedAdmin } from '../clients/admin.js';
import type { KafkaConfig } from '../config/load.js';
import { classifyKafkaError } from '../errors/classify.js';
import type { Log } from '../observability/log.js';
import type { Deadline } from '../retry/deadline.js';

/** A pause longer than this may have outlived connections or group membership. */
export function pauseThreshold(config: KafkaConfig): number {
  const idle = config.consumer.connectionsMaxIdleMs || Number.POSITIVE_INFINITY;
  return Math.min(idle, config.consumer.sessionTimeoutMs);
}

export interface PauseCheck {
  pauseMs: number;
  deadline: Deadline;
  config: KafkaConfig;
  admin: ManagedAdmin | undefined;
  hasConsumer: boolean;
  log: Log;
}

export async function checkAfterPause(
  check: PauseCheck,
): Promise<{ connectionsAlive: boolean; sessionExpired: boolean }> {
  const { log, config } = check;
  log.info(`Resumed after a pause of ${Math.round(check.pauseMs / 1000)} s: checking the connections`);
  let connectionsAlive = true;
  if (check.admin) {
    try {
      await check.admin.metadata('liveness check', Math.min(5000, check.deadline.remainingMs() / 2), {
        allTopics: false,
      });
      log.info('✓ Connections survived the pause');
    } catch (error) {
      log.warn('Connections did not survive the pause: rebuilding the admin client and producer', {
        summary: classifyKafkaError(error).summary,
      });
      connectionsAlive = false;
    }
  }
  const sessionExpired = check.hasConsumer && check.pauseMs > config.consumer.sessionTimeoutMs;
  if (sessionExpired) {
    log.info(
      `The pause outlasted the consumer session (${config.consumer.sessionTimeoutMs} ms): the group has evicted this member, rejoining with a new consumer`,
    );
  }
  return { connectionsAlive, sessionExpired };
}
