// `backend: { kind: 'ray', … }`: what is accepted, the defaults, and a named error for each mistake.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { ConfigError, type SnakepitConfig } from '../../src/index.js';

const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';

function pool(backend: unknown, extra: Record<string, unknown> = {}) {
  return resolveConfig({ adapter: ADAPTER, logger: false, backend, ...extra } as SnakepitConfig).pools[0]!;
}

function refused(backend: unknown, key: string, extra: Record<string, unknown> = {}): ConfigError {
  let caught: unknown;
  try {
    pool(backend, extra);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  expect((caught as ConfigError).key).toBe(`pool.${key}`);
  return caught as ConfigError;
}

describe('backend: ray', () => {
  it('is off by default, and fills in its defaults when asked for', () => {
    expect(pool(undefined).backend).toBeUndefined();
    expect(pool({ kind: 'ray' }).backend).toEqual({
      kind: 'ray',
      address: undefined,
      resources: { num_cpus: 1 },
      runtimeEnv: {},
      namespace: undefined,
      init: {},
      shipBridge: true,
    });
  });

  it('turns the template off: Ray starts the actors, this host forks nothing', () => {
    expect(pool({ kind: 'ray' }).template.enabled).toBe(false);
    expect(refused({ kind: 'ray' }, 'template', { template: true }).message).toMatch(/no Ray backend/);
  });

  it('keeps what was given', () => {
    const b = pool({
      kind: 'ray',
      address: 'ray://head:10001',
      resources: { num_cpus: 0.5, num_gpus: 1, memory: 2 ** 30, custom: { trainer: 1 } },
      runtimeEnv: { pip: ['numpy'] },
      namespace: 'ml',
      init: { object_store_memory: 1e8 },
      shipBridge: false,
    }).backend!;
    expect(b.resources).toEqual({ num_cpus: 0.5, num_gpus: 1, memory: 2 ** 30, custom: { trainer: 1 } });
    expect(b.address).toBe('ray://head:10001');
    expect(b.shipBridge).toBe(false);
  });

  it('names each mistake', () => {
    refused({ kind: 'dask' }, 'backend.kind');
    refused('ray', 'backend');
    refused({ kind: 'ray', adress: 'x' }, 'backend.adress');
    refused({ kind: 'ray', address: '' }, 'backend.address');
    refused({ kind: 'ray', resources: { num_cpus: -1 } }, 'backend.resources.num_cpus');
    refused({ kind: 'ray', resources: { cpus: 1 } }, 'backend.resources.cpus');
    refused({ kind: 'ray', resources: { custom: { gpu_a100: 'one' } } }, 'backend.resources.custom.gpu_a100');
    refused({ kind: 'ray', init: { address: 'x' } }, 'backend.init.address');
    refused({ kind: 'ray', runtimeEnv: [] }, 'backend.runtimeEnv');
    refused({ kind: 'ray', shipBridge: 'yes' }, 'backend.shipBridge');
  });

  it('is refused with another transport or runtime', () => {
    refused({ kind: 'ray' }, 'backend', { transport: 'snakepit' });
    refused({ kind: 'ray' }, 'backend', { runtime: 'node', module: 'x.js', adapter: undefined });
  });
});
