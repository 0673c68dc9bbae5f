// WorkerLifecycle (src/worker/worker-state.ts): the worker state table.
import { describe, expect, it } from 'vitest';
import { WorkerLifecycle, type WorkerState } from '../../src/worker/worker-state.js';

describe('WorkerLifecycle', () => {
  function walk(...steps: WorkerState[]): boolean[] {
    const l = new WorkerLifecycle('w', () => {});
    return steps.map((s) => l.transition(s));
  }
  it('allows recycling and tainting through the table only', () => {
    expect(walk('ready', 'draining', 'stopping', 'stopped')).toEqual([true, true, true, true]);
    expect(walk('ready', 'tainted', 'crashed')).toEqual([true, true, true]);
    expect(walk('ready', 'draining', 'tainted', 'crashed')).toEqual([true, true, true, true]);
    expect(walk('ready', 'draining', 'ready')).toEqual([true, true, false]);
    expect(walk('ready', 'tainted', 'ready')).toEqual([true, true, false]);
    expect(walk('ready', 'tainted', 'stopping')).toEqual([true, true, false]);
    expect(walk('draining')).toEqual([false]);
    expect(walk('ready', 'stopping', 'stopped', 'ready')).toEqual([true, true, true, false]);
  });
});
