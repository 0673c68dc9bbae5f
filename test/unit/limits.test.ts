// The parts of `limits` that do not need a worker: the config section, what reaches the worker's environment,
// the cgroup probe and worker cgroups (on a fake cgroup tree: the machines we test on have no cgroup v2 memory
// controller), and the sampler's rule (against a real process standing in for a worker).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { SnakepitConfig } from '../../src/config/config-types.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { ConfigError } from '../../src/errors/errors.js';
import { probeCgroup, WorkerCgroup } from '../../src/limits/cgroup.js';
import { MemoryWatch, SLACK_MB } from '../../src/limits/memory-watch.js';
import { limitsEnvValue } from '../../src/limits/worker-limits.js';
import { silentLogger } from '../../src/util/logger.js';
import { isRunning } from '../../src/util/proc.js';
import type { WorkerHandle } from '../../src/worker/worker-handle.js';
import { eventually } from '../helpers.js';

const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';

function keyOf(config: Partial<SnakepitConfig>): string {
  try {
    resolveConfig({ adapter: ADAPTER, logger: false, ...config } as SnakepitConfig);
  } catch (err) {
    if (err instanceof ConfigError) return err.key;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'snakepit-test-limits-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('the limits section', () => {
  it('resolves to undefined limits by default, and to the numbers given', () => {
    expect(resolveConfig({ adapter: ADAPTER, logger: false }).pools[0]!.limits).toEqual({
      memoryMb: undefined,
      cpuSeconds: undefined,
      openFiles: undefined,
    });
    const limits = { memoryMb: 300, cpuSeconds: 5, openFiles: 256 };
    expect(resolveConfig({ adapter: ADAPTER, logger: false, limits }).pools[0]!.limits).toEqual(limits);
  });

  it.each([
    [{ limits: { memoryMb: 10 } }, 'pool.limits.memoryMb'], // below what a worker needs to start
    [{ limits: { memoryMb: 300.5 } }, 'pool.limits.memoryMb'],
    [{ limits: { memoryMb: '300' } }, 'pool.limits.memoryMb'],
    [{ limits: { cpuSeconds: 0 } }, 'pool.limits.cpuSeconds'],
    [{ limits: { openFiles: 3 } }, 'pool.limits.openFiles'],
    [{ limits: { processes: 10 } }, 'pool.limits.processes'],
    [{ limits: 300 }, 'pool.limits'],
    [
      { limits: { memoryMb: 300 }, transport: 'grpc', endpoints: ['127.0.0.1:1'] } as Partial<SnakepitConfig>,
      'pool.limits',
    ],
  ])('%j is refused, naming %s', (config, key) => {
    expect(keyOf(config as Partial<SnakepitConfig>)).toBe(key);
  });

  it('reaches the worker as one variable, empty when there are none (never inherited from the host)', () => {
    expect(limitsEnvValue({ memoryMb: 300, cpuSeconds: 2, openFiles: 64 })).toBe(
      'memory_mb=300,cpu_seconds=2,open_files=64',
    );
    expect(limitsEnvValue({ memoryMb: undefined, cpuSeconds: undefined, openFiles: 64 })).toBe(
      'open_files=64',
    );
    expect(limitsEnvValue({ memoryMb: undefined, cpuSeconds: undefined, openFiles: undefined })).toBe('');
  });
});

describe('cgroup v2 (a fake tree)', () => {
  /** A root with /proc/self/{cgroup,mountinfo} and a cgroup2 mount at /sys/fs/cgroup holding /app. */
  function fakeRoot(options: { controllers?: string; subtree?: string; mounted?: boolean } = {}): string {
    const root = tempDir();
    mkdirSync(join(root, 'proc', 'self'), { recursive: true });
    writeFileSync(join(root, 'proc', 'self', 'cgroup'), '1:name=systemd:/\n0::/app\n');
    writeFileSync(
      join(root, 'proc', 'self', 'mountinfo'),
      '31 23 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n' +
        (options.mounted === false ? '' : '41 23 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n'),
    );
    const app = join(root, 'sys', 'fs', 'cgroup', 'app');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'cgroup.controllers'), options.controllers ?? 'cpu memory pids\n');
    writeFileSync(join(app, 'cgroup.subtree_control'), options.subtree ?? 'memory pids\n');
    return root;
  }

  it("finds the host's own cgroup when its children may have the memory controller", () => {
    const root = fakeRoot();
    expect(probeCgroup(root, {})).toEqual({ usable: true, parent: join(root, 'sys/fs/cgroup/app') });
  });

  it('says why not: controller not delegated, no controller, no cgroup v2, a named parent that is not one', () => {
    expect(probeCgroup(fakeRoot({ subtree: 'pids\n' }), {})).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/memory controller is not enabled for the children .*subtree_control/),
    });
    expect(probeCgroup(fakeRoot({ controllers: 'hugetlb\n', subtree: '' }), {})).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/no memory controller \(cgroup v2 controllers: hugetlb/),
    });
    expect(probeCgroup(fakeRoot({ mounted: false }), {})).toMatchObject({
      usable: false,
      reason: 'no cgroup v2 file system is mounted',
    });
    expect(probeCgroup(fakeRoot(), { SNAKEPIT_CGROUP_PARENT: '/elsewhere' })).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/elsewhere is not a cgroup v2 directory/),
    });
  });

  it('this machine: a probe that answers, either way, without throwing', () => {
    const probe = probeCgroup();
    if (probe.usable) expect(probe.parent).toMatch(/^\//);
    else expect(probe.reason.length).toBeGreaterThan(0);
  });

  it('a worker cgroup: capped at memoryMb, joined by pid, its processes killed when it ends', async () => {
    const parent = join(fakeRoot(), 'sys', 'fs', 'cgroup', 'app');
    const cgroup = WorkerCgroup.create(parent, 'run1', 'default-1', 300);
    expect(cgroup.dir).toBe(join(parent, 'snakepit-run1-default-1'));
    expect(readFileSync(join(cgroup.dir, 'memory.max'), 'utf8')).toBe(String(300 * 1024 * 1024));
    const member = spawn('sleep', ['60'], { stdio: 'ignore' });
    onTestFinished(() => void member.kill('SIGKILL'));
    cgroup.join(member.pid!);
    expect(cgroup.pids()).toEqual([member.pid]);
    expect(cgroup.oomKilled()).toBe(false);
    writeFileSync(join(cgroup.dir, 'memory.events'), 'oom 1\noom_kill 1\n');
    expect(cgroup.oomKilled()).toBe(true);
    cgroup.end(); // no cgroup.kill in the fake: one by one
    await eventually(() => !isRunning(member.pid!), 2_000, 'the member to be killed');
  });
});

describe('the memory sampler', () => {
  function fakeWorker(pid: number): WorkerHandle & { killed: string[] } {
    const killed: string[] = [];
    return {
      pid,
      state: 'ready',
      load: 1,
      killed,
      kill: (reason: string, kind: string) => killed.push(`${kind}: ${reason}`),
    } as unknown as WorkerHandle & { killed: string[] };
  }

  it('leaves a process under the limit (plus slack) alone and kills one past it, saying by how much', () => {
    const worker = fakeWorker(process.pid); // this test process: tens of MiB, private
    const watch = (memoryMb: number): MemoryWatch =>
      new MemoryWatch({ name: 'p', logger: silentLogger, memoryMb, workers: () => [worker] });
    watch(100_000).sample();
    expect(worker.killed).toEqual([]);
    watch(1).sample();
    expect(worker.killed).toHaveLength(1);
    expect(worker.killed[0]).toMatch(
      /^oom_kill: its memory reached \d+ MiB \(private \d+, shared \d+\), past limits\.memoryMb 1$/,
    );
    const reached = Number(/reached (\d+)/.exec(worker.killed[0]!)![1]);
    expect(reached).toBeGreaterThan(1 + SLACK_MB);
  });
});
