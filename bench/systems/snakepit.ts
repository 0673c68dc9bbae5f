import { join } from 'node:path';
import { Snakepit, type SnakepitConfig } from '../../src/index.js';
import type { BenchDriver, DriverOptions, SystemSpec } from './types.js';

/** One driver for every snakepit pool: only the config differs (the Python bridge per codec, the Node runtime). */
function snakepitSystem(
  id: string,
  label: string,
  config: (options: DriverOptions) => SnakepitConfig,
): SystemSpec {
  return {
    id,
    label,
    unavailable: async () => undefined,
    async start(options: DriverOptions): Promise<BenchDriver> {
      const pit = await Snakepit.start(config(options));
      return {
        workers: options.workers,
        add: (a, b) => pit.execute<number>('add', { a, b }),
        sumList: (values) => pit.execute<number>('sum_list', { values }),
        sumF64: (values) => pit.execute<number>('sum_f64', { data: values }),
        cpu: (ms) => pit.execute('cpu', { ms }),
        sleep: (ms) => pit.execute('sleep', { ms }),
        async stream(n) {
          let count = 0;
          for await (const _chunk of pit.executeStream('stream', { n })) count++;
          return count;
        },
        echoBytes: (data) => pit.execute<Uint8Array>('echo_bytes', { data }),
        die: () => pit.execute('die'),
        fail: () => pit.execute('fail'),
        sleepWithTimeout: (ms, timeoutMs) => pit.execute('sleep', { ms }, { timeoutMs }),
        pythonPids: () => pit.workers().map((w) => w.pid!),
        close: () => pit.close(),
      };
    },
  };
}

function pythonPool(codec: 'msgpack' | 'json'): (options: DriverOptions) => SnakepitConfig {
  return (options) => ({
    adapter: 'bench_adapter:BenchAdapter',
    size: options.workers,
    codec,
    pythonPath: [options.pythonDir],
    python: { executable: options.python },
    logger: false,
  });
}

export const snakepitMsgpack = snakepitSystem(
  'snakepit-msgpack',
  'snakepit (msgpack)',
  pythonPool('msgpack'),
);
export const snakepitJson = snakepitSystem('snakepit-json', 'snakepit (json)', pythonPool('json'));
/** The same workloads on the Node.js worker runtime (bench/node/bench-tools.mjs): a trivial call's cost there. */
export const snakepitNode = snakepitSystem('snakepit-node', 'snakepit (Node worker)', (options) => ({
  runtime: 'node',
  module: join(options.pythonDir, '..', 'node', 'bench-tools.mjs'),
  size: options.workers,
  logger: false,
}));
