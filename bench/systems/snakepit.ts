import { join } from 'node:path';
import { type NDArray, Snakepit, type SnakepitConfig } from '../../src/index.js';
import type { BenchDriver, DriverOptions, SystemSpec } from './types.js';

/** The workload calls, the same on every snakepit pool (the tools have the same names in Python and in Node). */
function workloadCalls(pit: Snakepit): Omit<BenchDriver, 'workers' | 'pythonPids' | 'close'> {
  return {
    add: (a, b) => pit.execute<number>('add', { a, b }),
    sumList: (values) => pit.execute<number>('sum_list', { values }),
    sumF64: (values) => pit.execute<number>('sum_f64', { data: values }),
    doubleF64: async (values) =>
      (await pit.execute<NDArray>('double_f64', { data: values })).data as Float64Array,
    cpu: (ms) => pit.execute('cpu', { ms }),
    sleep: (ms) => pit.execute('sleep', { ms }),
    async stream(n) {
      let count = 0;
      for await (const _chunk of pit.executeStream('stream', { n })) count++;
      return count;
    },
    echoBytes: (data) => pit.execute<Uint8Array>('echo_bytes', { data }),
    tableRoundTrip: (table) => pit.execute('table_roundtrip', { frame: table }),
    die: () => pit.execute('die'),
    fail: () => pit.execute('fail'),
    sleepWithTimeout: (ms, timeoutMs) => pit.execute('sleep', { ms }, { timeoutMs }),
  };
}

function snakepitSystem(codec: 'msgpack' | 'json'): SystemSpec {
  return {
    id: `snakepit-${codec}`,
    label: `snakepit (${codec})`,
    unavailable: async () => undefined,
    async start(options: DriverOptions): Promise<BenchDriver> {
      const pit = await Snakepit.start({
        adapter: 'bench_adapter:BenchAdapter',
        size: options.workers,
        codec,
        ...(options.template === undefined ? {} : { template: options.template }),
        pythonPath: [options.pythonDir],
        python: { executable: options.python },
        logger: false,
      });
      return {
        workers: options.workers,
        ...workloadCalls(pit),
        async counterAcrossRecycle() {
          await pit.executeInSession('robust', 'bump');
          const before = await pit.executeInSession<number>('robust', 'bump');
          await pit.recycleWorker(pit.sessions.get('robust')!.workers['default']!);
          return { before, after: await pit.executeInSession<number>('robust', 'bump') };
        },
        async healAfterFix(gateFile) {
          // The default start policy would refuse to start a broken pool: "available" starts it degraded.
          const gated = await Snakepit.start({
            pools: [
              {
                name: 'gated',
                adapter: 'bench_gated:BenchAdapter',
                size: 1,
                codec,
                pythonPath: [options.pythonDir],
                python: { executable: options.python },
                env: { GATE_FILE: gateFile },
                restart: { initialBackoffMs: 50, maxBackoffMs: 500 },
              },
              { name: 'ok', adapter: 'bench_adapter:BenchAdapter', size: 1, pythonPath: [options.pythonDir] },
            ],
            python: { executable: options.python },
            startPolicy: 'available',
            logger: false,
          });
          try {
            const t0 = performance.now();
            const brokenError = await gated.execute('add', { a: 1, b: 1 }, { pool: 'gated' }).then(
              () => 'none',
              (e: Error) => e.name,
            );
            const brokenMs = performance.now() - t0;
            const { writeFileSync } = await import('node:fs');
            writeFileSync(gateFile, 'installed');
            const t1 = performance.now();
            for (;;) {
              const ok = await gated.execute('add', { a: 1, b: 1 }, { pool: 'gated' }).then(
                (v) => v === 2,
                () => false,
              );
              if (ok) return { brokenError, brokenMs, healedMs: performance.now() - t1 };
              await new Promise((r) => setTimeout(r, 20));
            }
          } finally {
            await gated.close();
          }
        },
        async brokenBesideHealthy(gateFile) {
          const config = (startPolicy: 'all' | 'available'): SnakepitConfig => ({
            pools: [
              {
                name: 'broken',
                adapter: 'bench_gated:BenchAdapter',
                size: 1,
                codec,
                pythonPath: [options.pythonDir],
                env: { GATE_FILE: gateFile },
              },
              {
                name: 'ok',
                adapter: 'bench_adapter:BenchAdapter',
                size: 1,
                codec,
                pythonPath: [options.pythonDir],
              },
            ],
            python: { executable: options.python },
            startPolicy,
            logger: false,
          });
          const defaultPolicy = await Snakepit.start(config('all')).then(
            async (p) => {
              await p.close();
              return 'started anyway';
            },
            (e: Error) => e.name,
          );
          const both = await Snakepit.start(config('available'));
          try {
            const t0 = performance.now();
            const healthyOk = (await both.execute('add', { a: 1, b: 1 }, { pool: 'ok' })) === 2;
            const healthyMs = performance.now() - t0;
            const t1 = performance.now();
            const brokenError = await both.execute('add', { a: 1, b: 1 }, { pool: 'broken' }).then(
              () => 'none',
              (e: Error) => e.name,
            );
            return { defaultPolicy, healthyOk, healthyMs, brokenError, brokenMs: performance.now() - t1 };
          } finally {
            await both.close();
          }
        },
        pythonPids: () => pit.workers().map((w) => w.pid!),
        close: () => pit.close(),
      };
    },
  };
}

export const snakepitMsgpack = snakepitSystem('msgpack');
export const snakepitJson = snakepitSystem('json');

/** The same workloads on the Node.js worker runtime (bench/node/bench-tools.mjs): a trivial call's cost there. */
export const snakepitNode: SystemSpec = {
  id: 'snakepit-node',
  label: 'snakepit (Node worker)',
  unavailable: async () => undefined,
  async start(options: DriverOptions): Promise<BenchDriver> {
    const pit = await Snakepit.start({
      runtime: 'node',
      module: join(options.pythonDir, '..', 'node', 'bench-tools.mjs'),
      size: options.workers,
      logger: false,
    });
    return {
      workers: options.workers,
      ...workloadCalls(pit),
      // numpy and pandas live in Python: a Node worker has no `x * 2` on an array nor a DataFrame to make
      doubleF64: undefined,
      tableRoundTrip: undefined,
      pythonPids: () => pit.workers().map((w) => w.pid!),
      close: () => pit.close(),
    };
  },
};
