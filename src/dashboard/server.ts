/**
 * The dashboard's HTTP server (node:http, read-only):
 *
 *   GET /                  the page (static/index.html, app.js, style.css: no framework, no build step)
 *   GET /api/snapshot      DashboardSnapshot as JSON
 *   GET /api/events        Server-Sent Events: `snapshot` once, then `update` every interval
 *   GET /metrics           the Prometheus text of `pit.metrics()`
 *
 * Every request passes `Access` first (Host check on loopback, token when set). Responses forbid framing,
 * sniffing and caching, and the page's Content-Security-Policy allows only its own script and style: what
 * workers send (error messages, tracebacks) is shown as text, never as markup.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { METRICS_CONTENT_TYPE } from '../telemetry/metrics.js';
import type { Access } from './access.js';
import type { DashboardState } from './dashboard-state.js';
import { formatEvent } from './sse.js';

/** Viewers connected to /api/events at once; more are refused with 503. */
export const MAX_EVENT_CLIENTS = 32;
/** A viewer whose unsent events exceed this is too slow: it is disconnected (it reconnects and resyncs). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

interface StaticFile {
  type: string;
  body: Buffer;
}

function loadStatic(): Map<string, StaticFile> {
  const dir = new URL('./static/', import.meta.url);
  const file = (name: string, type: string): StaticFile => ({ type, body: readFileSync(new URL(name, dir)) });
  return new Map([
    ['/', file('index.html', 'text/html; charset=utf-8')],
    ['/app.js', file('app.js', 'text/javascript; charset=utf-8')],
    ['/style.css', file('style.css', 'text/css; charset=utf-8')],
  ]);
}

export interface DashboardServerParts {
  state: DashboardState;
  access: Access;
  metrics: () => Promise<string>;
}

/** The server, not yet listening. */
export function createDashboardServer(parts: DashboardServerParts): {
  server: Server;
  closeStreams: () => void;
} {
  const files = loadStatic();
  const streams = new Set<ServerResponse>();
  let eventId = 0;
  const offUpdate = parts.state.onUpdate((update) => {
    if (streams.size === 0) return;
    const text = formatEvent('update', JSON.stringify(update), ++eventId);
    for (const res of streams) {
      if (res.destroyed || res.writableEnded) continue; // leaving: its 'close' removes it
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
        continue;
      }
      res.write(text);
    }
  });

  const server = createServer((req, res) => {
    // Anything a client sends is untrusted: a request the handler cannot make sense of is a 400 for that
    // request, never an exception in the host.
    try {
      handle(req, res);
    } catch {
      send(res, 400, 'text/plain; charset=utf-8', 'bad request\n');
    }
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'text/plain; charset=utf-8', 'the dashboard is read-only: GET only\n', {
        Allow: 'GET, HEAD',
      });
    }
    const decision = parts.access.check(req, url);
    if (!decision.ok) return send(res, decision.status, 'text/plain; charset=utf-8', `${decision.message}\n`);
    if (decision.cookie && url.pathname === '/') {
      // The token came in the address: keep it in a cookie and show the page without it. The location is
      // relative, so the page also works behind a proxy that serves it under a path of its own.
      return send(res, 303, 'text/plain; charset=utf-8', '', {
        Location: './',
        'Set-Cookie': decision.cookie,
      });
    }
    const file = files.get(url.pathname === '/index.html' ? '/' : url.pathname);
    if (file) return send(res, 200, file.type, file.body);
    switch (url.pathname) {
      case '/api/snapshot':
        return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(parts.state.snapshot()));
      case '/api/events':
        return openStream(req, res);
      case '/metrics':
        return void parts.metrics().then(
          (text) => send(res, 200, METRICS_CONTENT_TYPE, text),
          (err: Error) => send(res, 500, 'text/plain; charset=utf-8', `metrics failed: ${err.message}\n`),
        );
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    if (streams.size >= MAX_EVENT_CLIENTS) {
      return send(res, 503, 'text/plain; charset=utf-8', 'too many viewers connected\n', {
        'Retry-After': '5',
      });
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'X-Accel-Buffering': 'no',
    });
    if (req.method === 'HEAD') return void res.end();
    res.socket?.setNoDelay(true);
    streams.add(res);
    res.on('close', () => streams.delete(res));
    res.write(`retry: 2000\n\n${formatEvent('snapshot', JSON.stringify(parts.state.snapshot()), eventId)}`);
  }

  return {
    server,
    closeStreams: () => {
      offUpdate();
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
