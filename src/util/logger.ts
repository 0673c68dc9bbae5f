/**
 * The logger contract: anything with pino's four level methods. The default writes to the console, filtered by
 * level (`SNAKEPIT_LOG_LEVEL` or the config's `logLevel`).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && value in RANK;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Console logger: `[snakepit worker] message`, or `[snakepit worker <correlation id>] message` for a line logged
 * during a call; errors and warnings to stderr.
 */
export function consoleLogger(level: LogLevel): Logger {
  const min = RANK[level];
  const line = (obj: object, msg?: string): string => {
    const o = obj as { pool?: string; worker?: string; correlationId?: string };
    const who = o.worker ? `${o.worker}` : (o.pool ?? '');
    const cid = o.correlationId ? ` ${o.correlationId}` : '';
    return `[snakepit${who ? ` ${who}` : ''}${cid}] ${msg ?? ''}`;
  };
  return {
    debug: (obj, msg) => {
      if (min <= RANK.debug) console.debug(line(obj, msg));
    },
    info: (obj, msg) => {
      if (min <= RANK.info) console.log(line(obj, msg));
    },
    warn: (obj, msg) => {
      if (min <= RANK.warn) console.warn(line(obj, msg));
    },
    error: (obj, msg) => {
      if (min <= RANK.error) console.error(line(obj, msg));
    },
  };
}
