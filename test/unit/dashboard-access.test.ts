// Access (src/dashboard/access.ts): who may open the dashboard.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Access, isLoopback } from '../../src/dashboard/access.js';

function request(headers: Record<string, string>, localPort = 7433): IncomingMessage {
  return { headers, socket: { localPort } } as unknown as IncomingMessage;
}

describe('Access', () => {
  const TOKEN = 'a-token-of-24-characters';
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopback(h)).toBe(true);
    }
    for (const h of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '192.168.1.1',
      'example.com',
      '128.0.0.1',
      'localhost.evil.com',
    ]) {
      expect(isLoopback(h)).toBe(false);
    }
  });

  it('on loopback, refuses a request addressed to another host name (DNS rebinding)', () => {
    const a = new Access('127.0.0.1', undefined);
    const url = new URL('http://x/');
    for (const host of ['127.0.0.1:7433', 'localhost:7433', '[::1]:7433', 'LOCALHOST:7433']) {
      expect(a.check(request({ host }), url)).toEqual({ ok: true });
    }
    for (const host of ['evil.example:7433', '127.0.0.1:80', 'localhost', '', '127.0.0.1:7433.evil']) {
      expect(a.check(request({ host }), url)).toMatchObject({ ok: false, status: 421 });
    }
  });

  it('with a token: bearer, cookie or query; anything else is 401', () => {
    const a = new Access('0.0.0.0', TOKEN);
    const none = new URL('http://x/');
    const at9000 = (headers: Record<string, string>) => request(headers, 9000);
    const cookie = Access.cookieName(9000);
    expect(cookie).toBe('snakepit_dashboard_9000');
    expect(a.check(at9000({ host: 'anything:9000' }), none)).toMatchObject({ ok: false, status: 401 });
    expect(a.check(at9000({ authorization: `Bearer ${TOKEN}` }), none)).toEqual({ ok: true });
    expect(a.check(at9000({ authorization: `Bearer ${TOKEN}x` }), none)).toMatchObject({ status: 401 });
    expect(a.check(at9000({ authorization: `Basic ${TOKEN}` }), none)).toMatchObject({ status: 401 });
    expect(a.check(at9000({ cookie: `other=1; ${cookie}=${TOKEN}` }), none)).toEqual({ ok: true });
    expect(a.check(at9000({ cookie: `${cookie}=wrong` }), none)).toMatchObject({ status: 401 });
    expect(a.check(at9000({ cookie: `${cookie}=%E0%A4%A` }), none)).toMatchObject({ status: 401 });
    // Another dashboard's cookie (another port) does not count.
    expect(a.check(at9000({ cookie: `snakepit_dashboard_9001=${TOKEN}` }), none)).toMatchObject({
      status: 401,
    });
    const withQuery = a.check(at9000({}), new URL(`http://x/?token=${TOKEN}`));
    expect(withQuery).toMatchObject({ ok: true });
    expect((withQuery as { cookie: string }).cookie).toBe(
      `snakepit_dashboard_9000=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`,
    );
    expect(a.check(at9000({}), new URL('http://x/?token='))).toMatchObject({ status: 401 });
  });

  it('a token on loopback is required too, after the host check', () => {
    const a = new Access('127.0.0.1', TOKEN);
    expect(a.check(request({ host: '127.0.0.1:1234' }, 1234), new URL('http://x/'))).toMatchObject({
      status: 401,
    });
    expect(
      a.check(request({ host: 'evil:1234', authorization: `Bearer ${TOKEN}` }, 1234), new URL('http://x/')),
    ).toMatchObject({ status: 421 });
  });
});
