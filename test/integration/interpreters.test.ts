// The bridge on the oldest and newest Python we support, with the standard library only (so the JSON codec).
import { describe, expect, it } from 'vitest';
import { CallTimeoutError, PyRef, PythonValueError } from '../../src/index.js';
import { start } from '../helpers.js';
import { findPython } from '../pythons.js';

const interpreters = ['3.9', '3.13'].map((minor) => [minor, findPython(minor)] as const);
for (const [minor, exe] of interpreters) {
  if (!exe)
    console.warn(
      `skipping the Python ${minor} tests: python${minor} not found (on PATH or under ~/.pyenv/versions)`,
    );
}

describe.each(interpreters)('Python %s', (minor, executable) => {
  it.runIf(executable)('runs calls, errors and streams', async () => {
    const pit = await start({ size: 1, python: { executable: executable! } });
    try {
      const info = (await pit.execute('info')) as { python: string };
      expect(info.python.startsWith(`${minor}.`)).toBe(true);
      expect(await pit.execute('echo', { b: Buffer.from([1, 2]), n: 2n ** 64n, f: 1.5 })).toEqual({
        b: Buffer.from([1, 2]),
        n: 2n ** 64n,
        f: 1.5,
      });
      await expect(pit.execute('error_demo', { error_type: 'ValueError' })).rejects.toBeInstanceOf(
        PythonValueError,
      );
      const chunks: unknown[] = [];
      for await (const c of pit.executeStream('count', { n: 3 })) chunks.push(c);
      expect(chunks).toHaveLength(3);
    } finally {
      await pit.close();
    }
  });

  it.runIf(executable)('runs sessions, object references and stream.send tools', async () => {
    const pit = await start({
      adapter: 'snakepit_fixtures.stateful:StatefulAdapter',
      size: 1,
      python: { executable: executable! },
    });
    try {
      await pit.executeInSession('s', 'remember', { key: 'k', value: [1, 2] });
      expect(await pit.executeInSession('s', 'recall', { key: 'k' })).toEqual([1, 2]);
      const ref = await pit.executeInSession<PyRef>('s', 'make_model', { name: 'old', weight: 3 });
      expect(ref).toBeInstanceOf(PyRef);
      expect(await pit.callMethod(ref, 'predict', [2])).toBe(6);
      expect(await pit.executeInSession('s', 'use_model', { model: ref })).toMatchObject({ name: 'old' });
      const progress: unknown[] = [];
      for await (const c of pit.executeStream('progress', { items: [1, 2] })) progress.push(c);
      expect(progress).toEqual([{ progress: 50, item: 2 }, { progress: 100, item: 4 }, { total: 2 }]);
      const asyncChunks: unknown[] = [];
      for await (const c of pit.executeStream('aprogress', { items: [1] })) asyncChunks.push(c);
      expect(asyncChunks).toEqual([{ item: 1 }, { done: true }]);
      pit.sessions.delete('s');
      expect(((await pit.execute('python_state')) as { sessions: string[]; refs: number }).refs).toBe(0);
    } finally {
      await pit.close();
    }
  });

  it.runIf(executable)('answers heartbeats (and expects them) without being mistaken for hung', async () => {
    const pit = await start({
      size: 1,
      python: { executable: executable! },
      heartbeat: { intervalMs: 100, timeoutMs: 1_000, hostTimeoutMs: 1_000 },
    });
    try {
      const pid = pit.workers()[0]!.pid;
      await new Promise((r) => setTimeout(r, 2_000)); // past both timeouts, on heartbeats alone
      expect(pit.workers().map((w) => [w.pid, w.state])).toEqual([[pid, 'ready']]);
      expect(await pit.execute('ping')).toMatchObject({ status: 'ok' });
    } finally {
      await pit.close();
    }
  });

  it.runIf(executable)(
    'keeps serving the channel while a sync tool runs and while it waits (the read role)',
    async () => {
      // A heartbeat timeout shorter than the sleep: only a worker that reads during the tool survives it.
      const pit = await start({
        size: 1,
        python: { executable: executable! },
        heartbeat: { intervalMs: 50, timeoutMs: 600, hostTimeoutMs: 5_000 },
      });
      try {
        const pid = pit.workers()[0]!.pid;
        expect(await pit.execute('sleep', { seconds: 1.2 })).toBe(1.2);
        const started = Date.now();
        await expect(pit.execute('sleep', { seconds: 30 }, { timeoutMs: 300 })).rejects.toBeInstanceOf(
          CallTimeoutError,
        );
        expect(await pit.execute('add', { a: 1, b: 2 })).toBe(3); // the cancel freed the slot
        expect(Date.now() - started).toBeLessThan(5_000);
        pit.tools.register('inner', async () => pit.execute('add', { a: 2, b: 3 }));
        expect(await pit.execute('call_host', { tool: 'inner' })).toBe(5); // a nested call inside the wait
        let received = 0;
        for await (const _chunk of pit.executeStream('count', { n: 40, delay: 0.004 }, { window: 2 }))
          received++;
        expect(received).toBe(40); // credit read while the generator waits for it
        expect(pit.workers().map((w) => w.pid)).toEqual([pid]);
      } finally {
        await pit.close();
      }
    },
  );

  it.runIf(executable)(
    'serves libraries with the generic adapter (no numpy: typed arrays arrive as lists)',
    async () => {
      const pit = await start({
        size: 1,
        adapter: undefined,
        python: { executable: executable! },
        libraries: [
          { name: 'math', module: 'math', functions: ['sqrt'] },
          { name: 'lib', module: 'snakepit_fixtures.generic_lib', lazy: true, expose: 'public' },
        ],
      });
      try {
        expect(await pit.execute('python.math.sqrt', { _args: [2.25] })).toBe(1.5);
        const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
        expect(await pit.execute('python.lib.iso', { _args: [when] })).toBe(
          '2024-01-02T03:04:05.006000+00:00',
        );
        expect(await pit.execute('python.lib.variadic', { _args: [new Int32Array([1, -2])] })).toEqual({
          args: [[1, -2]],
          kwargs: {},
        });
        const values = (await pit.execute('python.lib.values')) as Record<string, unknown>;
        expect(values['decimal']).toBe('1.10');
        expect((values['datetime'] as Date).toISOString()).toBe('2024-01-02T03:04:05.678Z');
        const chunks: unknown[] = [];
        for await (const c of pit.executeStream('python.lib.count', { n: 2 })) chunks.push(c);
        expect(chunks).toHaveLength(2);
        expect(await pit.execute('python.lib.slow_double', { x: 2 })).toBe(4);
      } finally {
        await pit.close();
      }
    },
  );
});
