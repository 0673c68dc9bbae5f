// The transport options of a pool: transport, endpoints, grpc, snakepit — defaults and every refusal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SnakepitConfig } from '../../src/config/config-types.js';
import { exposureProblem, isLoopbackHost, parseEndpoint } from '../../src/remote/grpc-config.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { ConfigError } from '../../src/errors/errors.js';

const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';
const TOKEN = 'a-token-of-sixteen-chars';
const dir = mkdtempSync(join(tmpdir(), 'snakepit-tls-'));
const pemFile = join(dir, 'ca.pem');
writeFileSync(pemFile, '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pool(extra: Record<string, unknown>) {
  return resolveConfig({ adapter: ADAPTER, logger: false, ...extra } as SnakepitConfig).pools[0]!;
}

function refusal(extra: Record<string, unknown>): { key: string; message: string } {
  try {
    pool(extra);
  } catch (err) {
    if (err instanceof ConfigError) return { key: err.key, message: err.message };
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('transport options', () => {
  it('defaults to local, with no remote settings', () => {
    const p = pool({ size: 2 });
    expect(p.transport).toBe('local');
    expect(p.grpc).toBeUndefined();
    expect(p.size).toBe(2);
  });

  it('grpc: endpoints, defaults, and size counting local workers (0 by default)', () => {
    const p = pool({ transport: 'grpc', endpoints: ['127.0.0.1:50051', 'localhost:50052'] });
    expect(p.size).toBe(0);
    expect(p.grpc).toMatchObject({
      endpoints: { list: ['127.0.0.1:50051', 'localhost:50052'] },
      workersPerEndpoint: 1,
      insecure: false,
      connectTimeoutMs: 5_000,
      keepaliveMs: 2_000,
      reconnect: { initialBackoffMs: 200, maxBackoffMs: 10_000 },
    });
    const mixed = pool({
      transport: 'grpc',
      endpoints: ['[::1]:1'],
      size: 2,
      grpc: { workersPerEndpoint: 3 },
    });
    expect(mixed.size).toBe(2);
    expect(mixed.grpc?.workersPerEndpoint).toBe(3);
  });

  it('takes a resolver function, TLS files and the token', () => {
    const resolver = (): string[] => ['10.0.0.1:50051'];
    const p = pool({
      transport: 'grpc',
      endpoints: resolver,
      grpc: { token: TOKEN, tls: { ca: pemFile, serverName: 'workers.internal' } },
    });
    expect(p.grpc?.endpoints.resolver).toBe(resolver);
    expect(p.grpc?.token).toBe(TOKEN);
    expect(p.grpc?.tls?.ca?.toString()).toContain('BEGIN CERTIFICATE');
    expect(p.grpc?.tls?.serverName).toBe('workers.internal');
  });

  it.each([
    [{ transport: 'tcp' }, 'pool.transport', /"local", "grpc" or "snakepit"/],
    [{ endpoints: ['127.0.0.1:1'] }, 'pool.endpoints', /transport "grpc"/],
    [{ grpc: {} }, 'pool.grpc', /transport "grpc"/],
    [{ snakepit: {} }, 'pool.snakepit', /transport "snakepit"/],
    [{ transport: 'grpc' }, 'pool.endpoints', /is required/],
    [{ transport: 'grpc', endpoints: [] }, 'pool.endpoints', /non-empty array/],
    [{ transport: 'grpc', endpoints: ['nohost'] }, 'pool.endpoints[0]', /host:port/],
    [{ transport: 'grpc', endpoints: ['h:70000'] }, 'pool.endpoints[0]', /port from 1 to 65535/],
    [{ transport: 'grpc', endpoints: ['a:1', 'a:1'] }, 'pool.endpoints', /twice/],
    [{ transport: 'grpc', endpoints: ['a:1'], grpc: { token: 'short' } }, 'pool.grpc.token', /16 characters/],
    [
      { transport: 'grpc', endpoints: ['127.0.0.1:1'], grpc: { tls: { ca: '/no/such.pem' } } },
      'pool.grpc.tls.ca',
      /cannot read/,
    ],
    [
      { transport: 'grpc', endpoints: ['127.0.0.1:1'], grpc: { tls: { cert: pemFile } } },
      'pool.grpc.tls.key',
      /both cert and key/,
    ],
    [
      { transport: 'grpc', endpoints: ['127.0.0.1:1'], grpc: { color: 1 } },
      'pool.grpc.color',
      /not a known option/,
    ],
    [
      { transport: 'grpc', endpoints: ['127.0.0.1:1'], grpc: { keepaliveMs: 10 } },
      'pool.grpc.keepaliveMs',
      /from 500/,
    ],
    [
      { transport: 'grpc', endpoints: ['10.1.2.3:50051'] },
      'pool.endpoints[0]',
      /not on this machine.*grpc.tls/,
    ],
    [{ transport: 'snakepit', snakepit: { command: [] } }, 'pool.snakepit.command', /non-empty array/],
    [{ transport: 'snakepit', codec: 'msgpack' }, 'pool.codec', /JSON/],
  ])('refuses %j naming %s', (extra, key, message) => {
    const got = refusal(extra);
    expect(got.key).toBe(key);
    expect(got.message).toMatch(message);
  });

  it('allows an endpoint off this machine with TLS, or with insecure: true', () => {
    expect(
      pool({ transport: 'grpc', endpoints: ['10.1.2.3:1'], grpc: { tls: true } }).grpc?.tls,
    ).toBeDefined();
    expect(
      pool({ transport: 'grpc', endpoints: ['10.1.2.3:1'], grpc: { insecure: true } }).grpc?.insecure,
    ).toBe(true);
  });

  it('knows loopback from the rest', () => {
    expect(['127.0.0.1', '127.9.9.9', '::1', 'localhost'].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com'].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(parseEndpoint('e', '[fe80::1]:9')).toEqual({ host: 'fe80::1', port: 9 });
    expect(exposureProblem('example.com:1', { tls: undefined, insecure: false })).toMatch(/clear text/);
  });
});
