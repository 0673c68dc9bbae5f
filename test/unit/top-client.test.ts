// `snakepit top`'s dashboard address (src/dashboard/top-client.ts).
import { describe, expect, it } from 'vitest';
import { parseDashboardUrl } from '../../src/dashboard/top-client.js';

describe('snakepit top address', () => {
  it('takes the token from the address unless one is given, and normalises the base', () => {
    expect(parseDashboardUrl('http://127.0.0.1:9/?token=abc', undefined)).toMatchObject({ token: 'abc' });
    expect(parseDashboardUrl('http://127.0.0.1:9/?token=abc', 'given').token).toBe('given');
    expect(parseDashboardUrl('127.0.0.1:9', undefined).base.href).toBe('http://127.0.0.1:9/');
    expect(parseDashboardUrl('http://h:9/sub', undefined).base.href).toBe('http://h:9/sub/');
    expect(() => parseDashboardUrl('ftp://h/', undefined)).toThrow(/http:\/\/ or https:\/\//);
    expect(() => parseDashboardUrl('http://[', undefined)).toThrow(/not a dashboard address/);
  });
});
