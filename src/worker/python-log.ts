/**
 * A worker's Python `logging` records (`log` frames) as host log lines, at the matching level and tagged with the
 * pool, the worker, the Python logger and the call's correlation id.
 */
import type { LogMessage } from '../protocol/messages.js';
import type { Logger } from '../util/logger.js';

const PY_LEVELS: Record<string, keyof Logger> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'error',
};

export function forwardPythonLog(logger: Logger, pool: string, worker: string, message: LogMessage): void {
  const level = PY_LEVELS[message.level] ?? 'info';
  logger[level](
    {
      pool,
      worker,
      stream: 'logging',
      logger: message.logger,
      call: message.call,
      correlationId: message.correlation_id ?? undefined,
    },
    message.message,
  );
}
