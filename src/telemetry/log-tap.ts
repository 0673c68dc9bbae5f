/**
 * The `log` event: a logger in front of the configured one that also publishes each line a worker wrote
 * (stdout, stderr) or forwarded (a Python `logging` record) as the event `log`. Host lines (those without a
 * `stream` field) pass through untouched. The configured logger still gets every line, filtered by its level;
 * `log` listeners get every line.
 */
import type { Logger } from '../util/logger.js';
import type { EventBus, LogStream, SnakepitEvents } from './event-bus.js';

type Level = SnakepitEvents['log']['level'];

/** The fields the worker handle logs a worker's line with. */
interface WorkerLineFields {
  pool?: string;
  worker?: string;
  stream?: LogStream;
  logger?: string;
  call?: number | null;
  correlationId?: string;
}

export function tapLogger(base: Logger, events: EventBus): Logger {
  const at =
    (level: Level) =>
    (obj: object, msg?: string): void => {
      base[level](obj, msg);
      const f = obj as WorkerLineFields;
      if (f.stream === undefined || f.worker === undefined || !events.wants('log')) return;
      events.emit('log', {
        pool: f.pool ?? '',
        worker: f.worker,
        stream: f.stream,
        level,
        line: msg ?? '',
        logger: f.logger,
        callId: typeof f.call === 'number' ? f.call : undefined,
        correlationId: f.correlationId,
      });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
