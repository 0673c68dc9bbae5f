import { Snakepit } from '../../src/index.js';
import type { BenchDriver, DriverOptions, SystemSpec } from './types.js';

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
        pythonPath: [options.pythonDir],
        python: { executable: options.python },
        logger: false,
      });
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

export const snakepitMsgpack = snakepitSystem('msgpack');
export const snakepitJson = snakepitSystem('json');
