/**
 * Who may read the dashboard.
 *
 * - Bound to loopback (the default): requests must name the server as a loopback host in `Host`
 *   (`127.0.0.1:<port>`, `localhost:<port>`, `[::1]:<port>`), so a web page elsewhere cannot read it through
 *   DNS rebinding (its requests carry the attacker's host name).
 * - Bound anywhere else: a token is required (one is generated when none is given).
 * - With a token, every request must carry it: `Authorization: Bearer <token>`, the cookie the page sets, or
 *   `?token=` (the page's address as printed; the page then moves it into the cookie and drops it from the URL).
 *
 * Tokens are compared in constant time (as SHA-256 digests, so their lengths do not leak either).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const MIN_TOKEN_LENGTH = 16;

/** Whether `host` (an address or name to bind) only reaches this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' ||
    h === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}

/** A fresh token (32 URL-safe characters, 192 bits). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export type AccessDecision =
  | {
      ok: true;
      /** The token came in the query: set this cookie so the page can drop it from its URL. */ cookie?: string;
    }
  | { ok: false; status: number; message: string };

export class Access {
  readonly #token: Buffer | undefined;
  /** Host names (without the port) a request may name when bound to loopback; undefined elsewhere. */
  readonly #loopbackNames: Set<string> | undefined;

  /** @param bound the address the server listens on */
  constructor(bound: string, token: string | undefined) {
    this.#token = token === undefined ? undefined : digest(token);
    if (isLoopback(bound)) {
      const literal = bound.includes(':') && !bound.startsWith('[') ? `[${bound}]` : bound;
      this.#loopbackNames = new Set(['localhost', '127.0.0.1', '[::1]', literal.toLowerCase()]);
    }
  }

  /** The cookie that carries the token for the server on `port` (one per port: cookies ignore ports). */
  static cookieName(port: number): string {
    return `snakepit_dashboard_${port}`;
  }

  check(req: IncomingMessage, url: URL): AccessDecision {
    const port = req.socket.localPort;
    if (this.#loopbackNames && !this.#isLoopbackHost(req.headers.host, port)) {
      return {
        ok: false,
        status: 421,
        message:
          'this dashboard only answers requests addressed to a loopback host (127.0.0.1, localhost, [::1]) ' +
          'with its port',
      };
    }
    if (!this.#token) return { ok: true };
    const cookieName = Access.cookieName(port ?? 0);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && this.#matches(bearer)) return { ok: true };
    const cookie = readCookie(req.headers.cookie, cookieName);
    if (cookie !== undefined && this.#matches(cookie)) return { ok: true };
    const query = url.searchParams.get('token');
    if (query !== null && this.#matches(query)) {
      return {
        ok: true,
        cookie: `${cookieName}=${encodeURIComponent(query)}; Path=/; HttpOnly; SameSite=Strict`,
      };
    }
    return {
      ok: false,
      status: 401,
      message:
        'this dashboard needs its token: open the address printed when it started (it ends in ?token=...), ' +
        'or send "Authorization: Bearer <token>"',
    };
  }

  #isLoopbackHost(host: string | undefined, port: number | undefined): boolean {
    const m = /^(.*):(\d+)$/.exec((host ?? '').toLowerCase());
    return m !== null && Number(m[2]) === port && this.#loopbackNames!.has(m[1]!);
  }

  #matches(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.#token!);
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}
