export * from './config/index.js';
export * from './errors/index.js';
export { ClientLogRecorder } from './observability/client-log.js';
export type { Log } from './observability/log.js';
export * from './retry/index.js';
export * from './ssl/index.js';
