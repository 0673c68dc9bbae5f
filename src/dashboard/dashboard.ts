/**
 * `pit.dashboard(options)`: a small read-only web page of the pools, served by the host, live over
 * Server-Sent Events (docs/DASHBOARD.md). This module is imported only when a dashboard is started, so a pool
 * that never uses one loads none of it.
 *
 *   Snakepit ──DashboardSource──► DashboardState (history, errors, lines) ──► server (page, JSON, SSE, /metrics)
 *                                                                                 ▲
 *                                                         browser, `snakepit top` ┘
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { describe, integer, isPlainObject, rejectUnknownKeys } from '../config/checks.js';
import { ConfigError } from '../errors/errors.js';
import { Access, isLoopback, MIN_TOKEN_LENGTH, newToken } from './access.js';
import type { DashboardSource } from './dashboard-source.js';
import { DashboardState } from './dashboard-state.js';
import { createDashboardServer } from './server.js';

export interface DashboardOptions {
  /** TCP port; 0 picks a free one. Default 7433 (where `snakepit top` looks first). */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`. Anything but loopback requires a token (one is generated). */
  host?: string;
  /** Required from every viewer when set (at least 16 characters). Default: none on loopback, generated elsewhere. */
  token?: string;
  /** How often the pools are sampled and viewers updated, ms. Default 1000. */
  intervalMs?: number;
  /** How far back the throughput, queue and latency history goes, ms. Default 300000 (5 minutes). */
  historyMs?: number;
}

export const DEFAULT_DASHBOARD_PORT = 7433;
const MAX_ERRORS = 50;
const MAX_SESSIONS = 50;
const OPTION_KEYS = new Set(['port', 'host', 'token', 'intervalMs', 'historyMs']);

/** A running dashboard. It stops with `close()`, or when its Snakepit closes. */
export interface Dashboard {
  /** The page's address; with a token it ends in `?token=...` (opening it moves the token into a cookie). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The token viewers must send, or undefined when none is required. */
  readonly token: string | undefined;
  close(): Promise<void>;
}

interface ResolvedOptions {
  port: number;
  host: string;
  token: string | undefined;
  intervalMs: number;
  historyMs: number;
}

export function resolveDashboardOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) {
    throw new ConfigError('dashboard', `options must be an object, got ${describe(options)}`);
  }
  rejectUnknownKeys('dashboard.', options, OPTION_KEYS);
  const port = integer('dashboard.port', options['port'], DEFAULT_DASHBOARD_PORT, 0, 65535);
  const host = options['host'] ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') {
    throw new ConfigError('dashboard.host', `must be an address or host name, got ${describe(host)}`);
  }
  let token = options['token'];
  if (token !== undefined && (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH)) {
    throw new ConfigError(
      'dashboard.token',
      `must be a string of at least ${MIN_TOKEN_LENGTH} characters (a random one, e.g. from ` +
        `\`openssl rand -hex 16\`), got ${typeof token === 'string' ? `${token.length} characters` : describe(token)}`,
    );
  }
  if (token === undefined && !isLoopback(host)) token = newToken();
  const intervalMs = integer('dashboard.intervalMs', options['intervalMs'], 1000, 50, 60_000);
  const historyMs = integer('dashboard.historyMs', options['historyMs'], 300_000, intervalMs, 3_600_000);
  return { port, host, token: token as string | undefined, intervalMs, historyMs };
}

export async function startDashboard(source: DashboardSource, options: unknown): Promise<Dashboard> {
  const o = resolveDashboardOptions(options);
  const state = new DashboardState(source, {
    intervalMs: o.intervalMs,
    historyMs: o.historyMs,
    maxErrors: MAX_ERRORS,
    maxSessions: MAX_SESSIONS,
  });
  const { server, closeStreams } = createDashboardServer({
    state,
    access: new Access(o.host, o.token),
    metrics: () => source.metrics(),
  });
  server.listen(o.port, o.host);
  try {
    await once(server, 'listening'); // rejects with the 'error' event (port in use, no such address)
  } catch (err) {
    state.close();
    closeStreams();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      throw new ConfigError(
        'dashboard.port',
        `${o.host}:${o.port} is in use (another dashboard?): pass another port, or 0 for any free one`,
      );
    }
    throw new ConfigError('dashboard.host', `cannot listen on ${o.host}:${o.port}: ${e.message}`);
  }
  // Later server errors (e.g. out of file descriptors on accept) refuse that connection; they must not crash the host.
  server.on('error', () => {});
  const port = (server.address() as AddressInfo).port;
  // Bound to every interface: name the machine, as the address to give others.
  const shown = o.host === '0.0.0.0' || o.host === '::' ? hostname() : o.host;
  const urlHost = shown.includes(':') && !shown.startsWith('[') ? `[${shown}]` : shown;
  const url = `http://${urlHost}:${port}/${o.token ? `?token=${encodeURIComponent(o.token)}` : ''}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    host: o.host,
    port,
    token: o.token,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        state.close();
        closeStreams();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
