// WorkerLineage (src/dashboard/worker-lineage.ts): which worker replaced which.
import { describe, expect, it } from 'vitest';
import { WorkerLineage } from '../../src/dashboard/worker-lineage.js';
import type { SnakepitEvents } from '../../src/telemetry/event-bus.js';

describe('WorkerLineage', () => {
  const exited = (worker: string, pool = 'p') =>
    ({ pool, worker, crashed: true }) as SnakepitEvents['worker:exited'];
  it('a recycled worker passes its line to its replacement; its own exit is no death', () => {
    const l = new WorkerLineage();
    l.recycled({ pool: 'p', worker: 'p-1', replacement: 'p-3' } as SnakepitEvents['worker:recycled']);
    l.exited({ ...exited('p-1'), crashed: false });
    l.recycled({ pool: 'p', worker: 'p-3', replacement: 'p-4' } as SnakepitEvents['worker:recycled']);
    l.exited(exited('p-3'));
    expect(l.of('p-4')).toEqual({ restarts: 0, recycles: 2 });
    // No restart takes over p-1's or p-3's line: they were recycled.
    l.restarted({ pool: 'p', worker: 'p-5', pid: 1 });
    expect(l.of('p-5')).toEqual({ restarts: 1, recycles: 0 });
  });

  it('replacements take over the oldest exits of their own pool, one each', () => {
    const l = new WorkerLineage();
    l.recycled({ pool: 'p', worker: 'p-1', replacement: 'p-2' } as SnakepitEvents['worker:recycled']);
    l.exited(exited('p-1'));
    l.exited(exited('p-2'));
    l.exited(exited('q-1', 'q'));
    l.restarted({ pool: 'q', worker: 'q-2', pid: 1 });
    l.restarted({ pool: 'p', worker: 'p-3', pid: 1 });
    l.exited(exited('p-3'));
    l.restarted({ pool: 'p', worker: 'p-4', pid: 1 });
    expect(l.of('q-2')).toEqual({ restarts: 1, recycles: 0 });
    expect(l.of('p-4')).toEqual({ restarts: 2, recycles: 1 });
    expect(l.of('p-2')).toEqual({ restarts: 0, recycles: 0 }); // gone: forgotten
  });
});
