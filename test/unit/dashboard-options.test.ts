// resolveDashboardOptions (src/dashboard/dashboard.ts): the dashboard's options.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/index.js';
import { resolveDashboardOptions } from '../../src/dashboard/dashboard.js';

describe('dashboard options', () => {
  it('defaults: loopback, port 7433, no token, 1 s interval, 5 min of history', () => {
    expect(resolveDashboardOptions(undefined)).toEqual({
      port: 7433,
      host: '127.0.0.1',
      token: undefined,
      intervalMs: 1000,
      historyMs: 300_000,
    });
  });

  it('off loopback without a token: one is generated', () => {
    const a = resolveDashboardOptions({ host: '0.0.0.0' });
    const b = resolveDashboardOptions({ host: '0.0.0.0' });
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a.token).not.toBe(b.token);
    expect(resolveDashboardOptions({ host: '::', token: 'x'.repeat(16) }).token).toBe('x'.repeat(16));
  });

  it('refuses bad options, naming them', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ port: -1 }, /dashboard\.port: must be an integer from 0 to 65535/],
      [{ port: '80' }, /dashboard\.port/],
      [{ host: '' }, /dashboard\.host/],
      [
        { token: 'short' },
        /dashboard\.token: must be a string of at least 16 characters .* got 5 characters/,
      ],
      [{ token: 12 }, /dashboard\.token/],
      [{ intervalMs: 10 }, /dashboard\.intervalMs/],
      [{ intervalMs: 1000, historyMs: 500 }, /dashboard\.historyMs/],
      [{ prot: 1 }, /dashboard\.prot: is not a known option/],
      ['x', /dashboard: options must be an object/],
    ];
    for (const [options, message] of bad) {
      expect(() => resolveDashboardOptions(options)).toThrow(ConfigError);
      expect(() => resolveDashboardOptions(options)).toThrow(message);
    }
  });
});
