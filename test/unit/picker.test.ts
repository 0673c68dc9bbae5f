// The picker (src/pool/picker.ts): least-loaded choice, pipelining only behind calls measured fast, affinity.
import { call, FakeWorker, timed } from './fake-pickable.js';
import { describe, expect, it } from 'vitest';
import { pickLeastLoaded, pickWorker, ToolTimings, type PickableWorker } from '../../src/pool/picker.js';

describe('pickLeastLoaded', () => {
  const limits = { workerConcurrency: 1, pipelineDepth: 4 };

  it('picks an idle ready worker, never a starting one', () => {
    const w1 = new FakeWorker('w1', 'starting');
    const w2 = new FakeWorker('w2');
    expect(pickLeastLoaded(timed([w1, w2], new ToolTimings()), limits)).toBe(w2);
  });

  it('does not pipeline behind a tool it has not measured as fast', () => {
    const w = new FakeWorker('w');
    w.calls.push(call('slow'));
    const timings = new ToolTimings();
    expect(pickLeastLoaded(timed([w], timings), limits)).toBeUndefined();
    for (let i = 0; i < 5; i++) timings.record('slow', 50);
    expect(pickLeastLoaded(timed([w], timings), limits)).toBeUndefined();
  });

  it('pipelines behind fast calls up to the depth, least loaded first', () => {
    const timings = new ToolTimings();
    for (let i = 0; i < 5; i++) timings.record('fast', 0.05);
    const a = new FakeWorker('a');
    const b = new FakeWorker('b');
    a.calls.push(call('fast'), call('fast'));
    b.calls.push(call('fast'));
    expect(pickLeastLoaded(timed([a, b], timings), limits)).toBe(b);
    b.calls.push(call('fast'), call('fast'), call('fast'));
    expect(pickLeastLoaded(timed([a, b], timings), limits)).toBe(a);
    a.calls.push(call('fast'), call('fast'));
    expect(pickLeastLoaded(timed([a, b], timings), limits)).toBeUndefined();
  });

  it('does not pipeline when depth equals concurrency', () => {
    const timings = new ToolTimings();
    for (let i = 0; i < 5; i++) timings.record('fast', 0.05);
    const w = new FakeWorker('w');
    w.calls.push(call('fast'));
    expect(pickLeastLoaded(timed([w], timings), { workerConcurrency: 1, pipelineDepth: 1 })).toBeUndefined();
  });
});

class AffinityWorker implements PickableWorker {
  load = 0;
  pipelineBlockers = 0;
  constructor(
    readonly id: string,
    public state = 'ready',
  ) {}
}

describe('pickWorker', () => {
  const limits = { workerConcurrency: 1, pipelineDepth: 1 };
  const [w1, w2] = [new AffinityWorker('w1'), new AffinityWorker('w2')];

  it('picks the least loaded worker for a call with no affinity', () => {
    w1.load = 1;
    w2.load = 0;
    expect(pickWorker(undefined, [w1, w2], limits)).toEqual({ kind: 'worker', worker: w2 });
    w2.load = 1;
    expect(pickWorker(undefined, [w1, w2], limits)).toEqual({ kind: 'busy' });
  });

  it('strict: the bound worker, or wait for it, or lost when it is gone', () => {
    w1.load = 0;
    w2.load = 0;
    const strict = { workerId: 'w2', strict: true };
    expect(pickWorker(strict, [w1, w2], limits)).toEqual({ kind: 'worker', worker: w2 });
    w2.load = 1;
    expect(pickWorker(strict, [w1, w2], limits)).toEqual({ kind: 'wait', worker: w2 });
    expect(pickWorker(strict, [w1], limits)).toEqual({ kind: 'lost', workerId: 'w2' });
    const stopping = new AffinityWorker('w2', 'stopping');
    expect(pickWorker(strict, [w1, stopping], limits)).toEqual({ kind: 'lost', workerId: 'w2' });
  });

  it('prefer: the bound worker when it has room, else any', () => {
    w1.load = 0;
    w2.load = 1;
    const prefer = { workerId: 'w2', strict: false };
    expect(pickWorker(prefer, [w1, w2], limits)).toEqual({ kind: 'worker', worker: w1 });
    expect(pickWorker(prefer, [w1], limits)).toEqual({ kind: 'worker', worker: w1 });
    w1.load = 1;
    expect(pickWorker(prefer, [w1, w2], limits)).toEqual({ kind: 'busy' });
  });
});
