/**
 * TopClient: `snakepit top`'s connection to a running dashboard's `/api/events`. It keeps the viewer's picture
 * (snapshot + updates), and when the stream ends it reconnects (1 s, then up to 5 s apart) and starts over
 * from the fresh snapshot the server sends on every connection.
 *
 * The first connection must succeed: a refused connection, a wrong token or something that is not a dashboard
 * is reported at once with what to do, instead of a screen that waits forever.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { DashboardSnapshot, DashboardUpdate } from './dashboard-types.js';
import { SseParser } from './sse.js';
import { applyUpdate } from './viewer-state.js';

export interface TopClientOptions {
  /** The dashboard's address, e.g. `http://127.0.0.1:7433/` (a `?token=` in it is used as the token). */
  url: string;
  token?: string | undefined;
  /** The picture changed (a snapshot or an update arrived). */
  onChange(snapshot: DashboardSnapshot): void;
  /** `live`, or `reconnecting: <why>`. */
  onStatus(status: string): void;
}

export class TopClientError extends Error {}

/** The base address and token from what the user typed. */
export function parseDashboardUrl(text: string, token: string | undefined): { base: URL; token?: string } {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new TopClientError(`"${text}" is not a dashboard address (e.g. http://127.0.0.1:7433/)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TopClientError(`the dashboard address must be http:// or https://, got ${url.protocol}`);
  }
  const fromUrl = url.searchParams.get('token') ?? undefined;
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  const chosen = token ?? fromUrl;
  return chosen === undefined ? { base: url } : { base: url, token: chosen };
}

export class TopClient {
  readonly #options: TopClientOptions;
  readonly #base: URL;
  readonly #token: string | undefined;
  #snapshot: DashboardSnapshot | undefined;
  #request: http.ClientRequest | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryMs = 1000;
  #closed = false;

  constructor(options: TopClientOptions) {
    this.#options = options;
    const { base, token } = parseDashboardUrl(options.url, options.token);
    this.#base = base;
    this.#token = token;
  }

  /** The address attached to (without the token). */
  get address(): string {
    return this.#base.href;
  }

  /** Connect; resolves with the first snapshot. @throws TopClientError when the first connection fails */
  connect(): Promise<DashboardSnapshot> {
    return new Promise((resolve, reject) => {
      this.#open((err) => {
        if (err) reject(err);
        else resolve(this.#snapshot!);
      });
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#request?.destroy();
  }

  /** One connection. `first` is called once: with the first snapshot, or with why there is none. */
  #open(first?: (err?: Error) => void): void {
    const url = new URL('api/events', this.#base);
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (this.#token !== undefined) headers['Authorization'] = `Bearer ${this.#token}`;
    const get = url.protocol === 'https:' ? https.get : http.get;
    let settled = first === undefined;
    const fail = (err: Error): void => {
      if (!settled) {
        settled = true;
        this.close(); // the first connection failed: no retries, the caller reports it
        first!(err);
        return;
      }
      this.#retry(err.message);
    };
    const request = get(url, { headers }, (res) =>
      this.#onResponse(res, url, fail, () => {
        if (!settled) {
          settled = true;
          first!();
        }
      }),
    );
    this.#request = request;
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#closed) return;
      fail(
        new TopClientError(
          err.code === 'ECONNREFUSED'
            ? `nothing is listening at ${this.#base.host}: start a dashboard there (pit.dashboard() or \`snakepit dashboard\`), or pass its address with --url`
            : `cannot reach ${this.#base.href}: ${err.message}`,
        ),
      );
    });
  }

  #onResponse(res: IncomingMessage, url: URL, fail: (err: Error) => void, live: () => void): void {
    if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
      res.resume();
      const hint =
        res.statusCode === 401
          ? 'the dashboard wants its token: pass --token, set SNAKEPIT_DASHBOARD_TOKEN, or give the whole printed address (…?token=…)'
          : res.statusCode === 421
            ? 'the dashboard is bound to loopback: connect to it as 127.0.0.1 or localhost'
            : 'is this a snakepit dashboard?';
      fail(new TopClientError(`${url.href} answered ${res.statusCode}: ${hint}`));
      return;
    }
    res.setEncoding('utf8');
    const parser = new SseParser((e) => {
      if (e.event === 'snapshot') {
        this.#snapshot = JSON.parse(e.data) as DashboardSnapshot;
        this.#retryMs = 1000;
        this.#options.onStatus('live');
        live();
        this.#options.onChange(this.#snapshot);
      } else if (e.event === 'update' && this.#snapshot) {
        this.#snapshot = applyUpdate(this.#snapshot, JSON.parse(e.data) as DashboardUpdate);
        this.#options.onChange(this.#snapshot);
      }
    });
    res.on('data', (chunk: string) => {
      try {
        parser.push(chunk);
      } catch (err) {
        res.destroy();
        fail(new TopClientError(`unreadable stream from ${url.href}: ${(err as Error).message}`));
      }
    });
    res.on('close', () => {
      if (!this.#closed) fail(new TopClientError('the dashboard closed the connection'));
    });
  }

  #retry(why: string): void {
    if (this.#closed || this.#retryTimer) return;
    this.#options.onStatus(`reconnecting: ${why}`);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#open();
    }, this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, 5000);
  }
}
