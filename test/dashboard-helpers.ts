/**
 * Helpers for tests of the dashboard: plain HTTP requests (with any Host header, which fetch does not allow),
 * a reader of its Server-Sent Events, and whether a command-line tool is there.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { DashboardSnapshot, DashboardUpdate } from '../src/dashboard/dashboard-types.js';
import { type SseEvent, SseParser } from '../src/dashboard/sse.js';

/** Whether `command --version` runs (a tool some tests need: script, prometheus). */
export function commandWorks(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function httpGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function getSnapshot(
  port: number,
  headers?: Record<string, string>,
): Promise<DashboardSnapshot> {
  const r = await httpGet(port, '/api/snapshot', headers);
  if (r.status !== 200) throw new Error(`/api/snapshot answered ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as DashboardSnapshot;
}

/**
 * A connection to /api/events that keeps every event; `next` waits for the next one that matches (events are
 * read in order: each `next` starts after the event the previous one returned).
 */
export class EventReader {
  readonly events: SseEvent[] = [];
  ended = false;
  #cursor = 0;
  readonly #waiters = new Set<() => void>();
  readonly #request: http.ClientRequest;

  constructor(port: number, headers: Record<string, string> = {}) {
    const parser = new SseParser((e) => {
      this.events.push(e);
      for (const w of this.#waiters) w();
    });
    this.#request = http.get(
      { host: '127.0.0.1', port, path: '/api/events', headers, agent: false },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => parser.push(d));
        res.on('close', () => {
          this.ended = true;
          for (const w of this.#waiters) w();
        });
      },
    );
    this.#request.on('error', () => {
      this.ended = true;
    });
  }

  /** The next event that matches, waiting up to `timeoutMs`. */
  async next(match: (e: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#cursor < this.events.length) {
        const e = this.events[this.#cursor++]!;
        if (match(e)) return e;
      }
      if (this.ended) throw new Error('the event stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done(): void {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        }
        const waiters = this.#waiters;
        waiters.add(done);
      });
    }
  }

  /** Wait for an update that satisfies `predicate`. */
  async update(predicate: (u: DashboardUpdate) => boolean, timeoutMs = 10_000): Promise<DashboardUpdate> {
    const e = await this.next(
      (ev) => ev.event === 'update' && predicate(JSON.parse(ev.data) as DashboardUpdate),
      timeoutMs,
    );
    return JSON.parse(e.data) as DashboardUpdate;
  }

  close(): void {
    this.#request.destroy();
  }
}
