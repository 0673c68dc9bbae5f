import { BareLoop } from '../bare/bare-client.js';
import type { BenchDriver, DriverOptions, SystemSpec } from './types.js';

export const bareMsgpack: SystemSpec = {
  id: 'bare-msgpack',
  label: 'bare framed loop (msgpack)',
  unavailable: async () => undefined,
  async start(options: DriverOptions): Promise<BenchDriver> {
    const loop = await BareLoop.start(options.python, 'msgpack', options.workers);
    return {
      workers: options.workers,
      add: (a, b) => loop.call('add', { a, b }) as Promise<number>,
      sumList: (values) => loop.call('sum_list', { values }) as Promise<number>,
      sumF64: (values) =>
        loop.call('sum_f64', {
          data: Buffer.from(values.buffer, values.byteOffset, values.byteLength),
        }) as Promise<number>,
      cpu: (ms) => loop.call('cpu', { ms }),
      sleep: (ms) => loop.call('sleep', { ms }),
      async stream(n) {
        let count = 0;
        await loop.call('stream', { n }, () => count++);
        return count;
      },
      echoBytes: (data) => loop.call('echo_bytes', { data }) as Promise<Uint8Array>,
      die: () => loop.call('die', {}),
      fail: () => loop.call('fail', {}),
      pythonPids: () => loop.pids,
      close: async () => loop.close(),
    };
  },
};
