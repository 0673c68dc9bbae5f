/**
 * snakepit: a pool of long-lived Python worker processes behind one typed async API.
 *
 *   const pit = await Snakepit.start({ adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter' });
 *   await pit.execute('add', { a: 1, b: 2 });   // 3
 *   await pit.close();
 */
export { Snakepit } from './snakepit.js';
export type {
  ExecuteOptions,
  StreamOptions,
  ToolArgs,
  RefCallOptions,
  CallMethodOptions,
} from './snakepit.js';
export { PyRef } from './refs/py-ref.js';
export type {
  Sessions,
  SessionInfo,
  SessionOptions,
  SessionStoreStats,
  SessionEndReason,
} from './session/session-store.js';
export type {
  SnakepitConfig,
  PoolConfig,
  QueueConfig,
  PythonConfig,
  ResolvedPython,
  AffinityMode,
  SessionsConfig,
  HeartbeatConfig,
  RecycleConfig,
  RestartConfig,
} from './config/config-types.js';
export type { PoolStats, WorkerInfo } from './pool/pool.js';
export type { ToolSpec, ParameterSpec } from './protocol/messages.js';
export type { Logger, LogLevel } from './util/logger.js';
export type { SnakepitEvents, SnakepitEventName, RecycleReason } from './telemetry/event-bus.js';
export type { WorkerExitKind } from './worker/exit-kind.js';
export { resolvePython } from './python/interpreter.js';
export { PythonPackages } from './python/packages.js';
export type {
  PythonPackagesOptions,
  PackageStatus,
  CheckInstalledResult,
  EnsureResult,
} from './python/packages.js';
export type { Installer } from './python/install.js';
export * from './errors/errors.js';
export * from './errors/python-errors.js';
