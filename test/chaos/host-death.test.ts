// Chaos: the host itself dies, is signalled, or forgets close(). Real Node host processes
// (test/fixtures/hosts/chaos-host.ts) are started, killed and signalled; the assertions are about the Python
// processes they leave — none.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRunning } from '../../src/util/proc.js';
import {
  expectGone,
  expectNoLeftovers,
  killOnFinish,
  runProcesses,
  startChaos,
  startHost,
  tempDir,
} from './chaos-helpers.js';

const pidsOf = (line: Record<string, unknown>): number[] => line['pids'] as number[];

describe('the host killed with SIGKILL', () => {
  it('during load leaves no Python process within 2 s', async () => {
    const host = startHost('load', { registryDir: tempDir('reg') });
    const ready = await host.waitFor('ready');
    await host.waitFor('loading');
    const pids = pidsOf(ready);
    expect(pids.every(isRunning)).toBe(true);
    host.child.kill('SIGKILL');
    await host.exited;
    const t0 = Date.now();
    await expectGone(pids, 2_000);
    expect(runProcesses(ready['runId'] as string)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it("a second host start sweeps what the first left: the adapter's own subprocesses", async () => {
    const registryDir = tempDir('reg');
    // Workers started cold: a template takes its workers' groups along when its host dies (template.test.ts), so
    // nothing would be left to sweep.
    const host = startHost('orphans', {
      registryDir,
      env: { CHAOS_SPAWN_CHILD: '1' },
      extra: { template: false },
    });
    const ready = await host.waitFor('ready');
    const children = ready['children'] as number[];
    killOnFinish([...pidsOf(ready), ...children]);
    expect(children).toHaveLength(2);
    expect(readdirSync(registryDir)).toEqual([`run-${ready['runId'] as string}.json`]);
    host.child.kill('SIGKILL');
    await host.exited;
    await expectGone(pidsOf(ready)); // the workers follow their host at once...
    await new Promise((r) => setTimeout(r, 500));
    expect(children.every(isRunning)).toBe(true); // ...their subprocesses, which know nothing of it, do not
    const pit = await startChaos({ registryDir });
    try {
      await expectGone(children, 1_000);
      expect(readdirSync(registryDir)).toEqual([`run-${pit.runId}.json`]);
    } finally {
      await pit.close();
    }
    expect(readdirSync(registryDir)).toEqual([]);
    await expectNoLeftovers(pit.runId);
  });

  it('a second host start sweeps a worker that outlived its host (stuck in C code, no parent watch)', async () => {
    const registryDir = tempDir('reg');
    const host = startHost('stuck', { registryDir });
    const ready = await host.waitFor('ready');
    const [worker] = pidsOf(ready);
    killOnFinish([worker!]);
    host.child.kill('SIGKILL');
    await host.exited;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(isRunning(worker!)).toBe(true); // it cannot read the end of file: its interpreter is stuck
    const other = await startChaos({ registryDir: tempDir('other') });
    try {
      expect(isRunning(worker!)).toBe(true); // a host using another registry leaves it alone
    } finally {
      await other.close();
    }
    const pit = await startChaos({ registryDir });
    try {
      expect(isRunning(worker!)).toBe(false);
      expect(existsSync(join(registryDir, `run-${ready['runId'] as string}.json`))).toBe(false);
    } finally {
      await pit.close();
    }
    expect(runProcesses(ready['runId'] as string)).toEqual([]);
  });
});

describe('signals on the host (handleSignals: true)', () => {
  it('SIGTERM closes gracefully: the call in flight finishes, cleanup() runs, the signal then ends the host', async () => {
    const dir = tempDir('sig');
    const cleanupFile = join(dir, 'cleanup');
    const host = startHost('signals', { seconds: 1, env: { CHAOS_CLEANUP_FILE: cleanupFile } });
    const ready = await host.waitFor('ready');
    host.child.kill('SIGTERM');
    const call = await host.waitFor('call', 10_000);
    expect(call).toMatchObject({ ok: true, value: 1 });
    expect(await host.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(readFileSync(cleanupFile, 'utf8')).toMatch(/^cleanup \d+\n$/);
    await expectGone(pidsOf(ready));
  });

  it('a second signal forces: workers are stopped at once and the call fails', async () => {
    const host = startHost('signals', { seconds: 60 });
    const ready = await host.waitFor('ready');
    host.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    expect(isRunning(host.child.pid!)).toBe(true); // still draining the 60 s call
    const t0 = Date.now();
    host.child.kill('SIGINT');
    expect(await host.exited).toEqual({ code: null, signal: 'SIGINT' });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(host.lines.find((l) => l['event'] === 'call')).toMatchObject({
      ok: false,
      error: 'PoolClosedError',
    });
    await expectGone(pidsOf(ready));
  });
});

describe('a host that forgets close()', () => {
  it('exits by itself once idle (idle workers do not hold the event loop); its workers follow', async () => {
    const registryDir = tempDir('reg');
    const host = startHost('forget', { registryDir });
    const done = await host.waitFor('done');
    const t0 = Date.now();
    expect(await host.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5_000);
    await expectGone(pidsOf(done));
    expect(readdirSync(registryDir)).toEqual([]); // it exited (not died): its exit hook removed its record
  });
});

describe('close()', () => {
  it('is bounded even when a worker is stuck in C code and ignores shutdown', async () => {
    const pit = await startChaos({ size: 1, heartbeat: false, closeTimeoutMs: 300, killGraceMs: 300 });
    const pid = pit.workers()[0]!.pid!;
    const stuck = pit.execute('hang_gil').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await pit.close();
    // closeTimeoutMs + 2 × killGraceMs, plus a margin for a loaded machine.
    expect(performance.now() - t0).toBeLessThan(300 + 2 * 300 + 1_500);
    expect(await stuck).toBeInstanceOf(Error);
    await expectGone([pid]);
    await expectNoLeftovers(pit.runId);
  });
});
