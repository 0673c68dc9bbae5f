import { BareLoop } from '../bare/bare-client.js';
import type { BenchDriver, DriverOptions, SystemSpec } from './types.js';

/**
 * The transport's ceiling with one codec. With JSON the bare loop has no bytes type (snakepit's JSON codec carries
 * bytes as raw attachments, which the bare loop does not implement), so the bytes workloads are n/a there.
 */
function bareSystem(codec: 'msgpack' | 'json'): SystemSpec {
  return {
    id: `bare-${codec}`,
    label: `bare framed loop (${codec})`,
    unavailable: async () => undefined,
    async start(options: DriverOptions): Promise<BenchDriver> {
      const loop = await BareLoop.start(options.python, codec, options.workers);
      const bytes = codec === 'msgpack';
      return {
        workers: options.workers,
        add: (a, b) => loop.call('add', { a, b }) as Promise<number>,
        sumList: (values) => loop.call('sum_list', { values }) as Promise<number>,
        sumF64: !bytes
          ? undefined
          : (values) =>
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
        echoBytes: !bytes ? undefined : (data) => loop.call('echo_bytes', { data }) as Promise<Uint8Array>,
        die: () => loop.call('die', {}),
        fail: () => loop.call('fail', {}),
        pythonPids: () => loop.pids,
        close: async () => loop.close(),
      };
    },
  };
}

export const bareMsgpack = bareSystem('msgpack');
export const bareJson = bareSystem('json');
