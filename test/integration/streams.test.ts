// Streaming end to end with real workers: order, completeness, cancellation, back-pressure, errors, styles.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, CallTimeoutError, PythonValueError, type Snakepit } from '../../src/index.js';
import { start } from '../helpers.js';

const STATEFUL = 'snakepit_fixtures.stateful:StatefulAdapter';

interface Tick {
  i: number;
  pad?: Buffer;
}
interface Counters {
  produced: number;
  finally_runs: number;
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb[1]) * 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(['msgpack', 'json'] as const)('streams over %s', (codec) => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await start({ adapter: STATEFUL, size: 1, codec });
  });
  afterAll(() => pit?.close());

  it('delivers 100,000 chunks in order and complete', async () => {
    let expected = 0;
    for await (const chunk of pit.executeStream('ticks', { n: 100_000 })) {
      expect((chunk as Tick).i).toBe(expected);
      expected++;
    }
    expect(expected).toBe(100_000);
  });

  it('surfaces an error after the chunks sent before it', async () => {
    const got: number[] = [];
    const err = await (async () => {
      for await (const chunk of pit.executeStream('fail_after', { n: 5 })) got.push((chunk as Tick).i);
    })().catch((e: unknown) => e);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(err).toBeInstanceOf(PythonValueError);
    expect((err as PythonValueError).message).toContain('failed after 5 chunks');
    expect((err as PythonValueError).traceback).toContain('fail_after');
  });

  it('streams chunks pushed with stream.send (Snakepit style), then the return value', async () => {
    const chunks: unknown[] = [];
    for await (const chunk of pit.executeStream('progress', { items: [1, 2, 3, 4] })) chunks.push(chunk);
    expect(chunks).toEqual([
      { progress: 25, item: 2 },
      { progress: 50, item: 4 },
      { progress: 75, item: 6 },
      { progress: 100, item: 8 },
      { total: 4 },
    ]);
    const async: unknown[] = [];
    await pit.executeStream('aprogress', { items: ['a', 'b'] }, (c) => async.push(c), { window: 1 });
    expect(async).toEqual([{ item: 'a' }, { item: 'b' }, { done: true }]);
  });

  it('runs the callback form in order', async () => {
    const seen: number[] = [];
    await pit.executeStream('ticks', { n: 50 }, (c) => seen.push((c as Tick).i));
    expect(seen).toEqual([...Array(50).keys()]);
  });
});

describe('cancelling streams', () => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await start({ adapter: STATEFUL, size: 1 });
  });
  afterAll(() => pit?.close());

  it('stops the generator when the consumer stops after 3 chunks; the worker serves the next call within 50 ms', async () => {
    const before = (await pit.execute('finally_runs_count')) as number;
    const delays: number[] = [];
    for (let trial = 0; trial < 5; trial++) {
      const got: number[] = [];
      for await (const chunk of pit.executeStream('ticks', {})) {
        got.push((chunk as Tick).i);
        if (got.length === 3) break;
      }
      const t0 = performance.now();
      const who = (await pit.execute('whoami')) as { pid: number };
      delays.push(performance.now() - t0);
      expect(got).toEqual([0, 1, 2]);
      expect(who.pid).toBeGreaterThan(0);
    }
    expect((await pit.execute('finally_runs_count')) as number).toBe(before + 5); // each finally ran
    delays.sort((a, b) => a - b);
    console.log(`break → next call answered: ${delays.map((d) => d.toFixed(1)).join(', ')} ms`);
    expect(delays[2]).toBeLessThan(50); // the median of 5 (a loaded 2-core machine may stall one)
    expect(pit.stats('default').inFlight).toBe(0);
  });

  it('return() on the iterator cancels too', async () => {
    const before = (await pit.execute('finally_runs_count')) as number;
    const it = pit.executeStream('ticks', {});
    expect(((await it.next()).value as Tick).i).toBe(0);
    await it.return?.();
    expect((await pit.execute('finally_runs_count')) as number).toBe(before + 1);
  });

  it('aborts an infinite stream with an AbortSignal', async () => {
    const before = (await pit.execute('finally_runs_count')) as number;
    const controller = new AbortController();
    let n = 0;
    const err = await (async () => {
      for await (const _chunk of pit.executeStream(
        'ticks',
        { delay: 0.001 },
        { signal: controller.signal },
      )) {
        if (++n === 10) controller.abort(new Error('enough'));
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).cause).toEqual(new Error('enough'));
    expect(n).toBeGreaterThanOrEqual(10);
    expect((await pit.execute('finally_runs_count')) as number).toBe(before + 1);
    expect(pit.stats('default').inFlight).toBe(0);
  });

  it('times out an infinite stream and stops its generator', async () => {
    const before = (await pit.execute('finally_runs_count')) as number;
    let n = 0;
    const err = await (async () => {
      for await (const _chunk of pit.executeStream('ticks', { delay: 0.01 }, { timeoutMs: 300 })) n++;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(n).toBeGreaterThan(0);
    expect((await pit.execute('finally_runs_count')) as number).toBe(before + 1);
  });
});

describe('back-pressure', () => {
  let pit: Snakepit;
  beforeAll(async () => {
    // Two slots, so a counter can be read (an async tool, on the event loop) while the stream holds one.
    pit = await start({ adapter: STATEFUL, size: 1, workerConcurrency: 2 });
  });
  afterAll(() => pit?.close());

  it('keeps a slow consumer from making the worker run ahead or grow (measured)', async () => {
    const WINDOW = 8;
    const CHUNK = 64 * 1024;
    const pid = pit.workers()[0]!.pid!;
    let consumed = 0;
    let rssStart = 0;
    const aheadSamples: number[] = [];
    for await (const chunk of pit.executeStream('ticks', { size: CHUNK }, { window: WINDOW })) {
      expect((chunk as Tick).pad!.length).toBe(CHUNK);
      consumed++;
      if (consumed === 20) rssStart = rssBytes(pid);
      if (consumed % 20 === 0) {
        const counters = (await pit.execute('stream_counters')) as Counters;
        aheadSamples.push(counters.produced - consumed);
      }
      await sleep(5); // a slow consumer: ~200 chunks/s, where the generator could make thousands
      if (consumed === 200) break;
    }
    const rssEnd = rssBytes(pid);
    const growth = rssEnd - rssStart;
    console.log(
      `slow consumer: worker RSS ${(rssStart / 2 ** 20).toFixed(1)} → ${(rssEnd / 2 ** 20).toFixed(1)} MiB ` +
        `over 180 chunks of 64 KiB; generator ahead of the consumer by ${aheadSamples.join(', ')} chunks`,
    );
    // Without credit the generator would be thousands of chunks (hundreds of MiB) ahead by now.
    for (const ahead of aheadSamples) expect(ahead).toBeLessThanOrEqual(WINDOW + 1);
    expect(growth).toBeLessThan(8 * 2 ** 20);
  });
});
