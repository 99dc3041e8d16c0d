/**
 * Health-check function, run on a schedule: broker metadata, the configured topics and the group's
 * coordinator, probed fresh. Returns getHealthStatus(); an unhealthy result is also an ERROR log line
 * and a `health_check_failures` metric, which the alarm in serverless.yml watches.
 */
import { KafkaInitializer } from '../src/init/initializer.js';

const kafka = new KafkaInitializer();

export const handler = kafka.handler((_event: unknown, invocation) => kafka.checkHealth(invocation));
