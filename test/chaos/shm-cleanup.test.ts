// Chaos: nothing of a run stays in /dev/shm when its host or its workers are killed (docs/DATA.md). Real host
// processes (test/fixtures/hosts/chaos-host.ts, scenario `shm`) put large values through shared memory, then die.
import { readdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRunning } from '../../src/util/proc.js';
import { expectGone, killOnFinish, startChaos, startHost, tempDir } from './chaos-helpers.js';

const segmentsOf = (runId: string): string[] =>
  readdirSync('/dev/shm').filter((n) => n.startsWith(`snakepit-${runId}-`));

async function expectNoSegments(runId: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (segmentsOf(runId).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  expect(segmentsOf(runId)).toEqual([]);
}

describe('shared-memory segments when the host is killed with SIGKILL', () => {
  it('its workers remove their segments as they follow it', async () => {
    const host = startHost('shm', { registryDir: tempDir('reg') });
    const ready = await host.waitFor('ready');
    const runId = ready['runId'] as string;
    expect(ready['shared']).toBeGreaterThanOrEqual(4); // two workers, a large value each way
    host.child.kill('SIGKILL');
    await host.exited;
    await expectGone(ready['pids'] as number[], 2_000);
    await expectNoSegments(runId, 1_000);
  });

  it('the next host start sweeps names left behind (a segment created but never opened by the other side)', async () => {
    const registryDir = tempDir('reg');
    const host = startHost('shm', { registryDir, env: { CHAOS_STUCK: '1' } });
    const ready = await host.waitFor('ready');
    const runId = ready['runId'] as string;
    const pids = ready['pids'] as number[];
    killOnFinish(pids);
    host.child.kill('SIGKILL');
    await host.exited;
    await new Promise((r) => setTimeout(r, 500));
    expect(pids.every(isRunning)).toBe(true); // stuck in C code: they cannot clean up
    // A name still there: the host died between creating a segment and the worker's first open of it.
    writeFileSync(`/dev/shm/snakepit-${runId}-default-1-a7`, Buffer.alloc(1 << 16));
    writeFileSync(`/dev/shm/snakepit-${runId}-default-2-r3`, Buffer.alloc(1 << 16));
    expect(segmentsOf(runId)).toHaveLength(2);
    const pit = await startChaos({ registryDir });
    try {
      expect(segmentsOf(runId)).toEqual([]);
    } finally {
      await pit.close();
    }
    expect(segmentsOf(pit.runId)).toEqual([]);
  });
});
