/**
 * pythonia (JSPyBridge): one Python process per Node process, JSON over a pipe, calls as awaited proxies.
 * Driven as its README shows: `python(file)` imports a module, `await mod.fn(...)` calls it.
 */
import { join } from 'node:path';
import type { BenchDriver, DriverOptions, SystemSpec } from './types.js';

interface PyFn {
  (...args: unknown[]): Promise<unknown>;
}
type PyModule = Record<string, PyFn>;
interface PythoniaModule {
  python: ((file: string) => Promise<PyModule>) & { exit(): void };
}

export const pythonia: SystemSpec = {
  id: 'pythonia',
  label: 'pythonia',
  async unavailable() {
    try {
      await import.meta.resolve?.('pythonia');
      return undefined;
    } catch {
      return 'the pythonia package is not installed (npm ci installs it as a devDependency)';
    }
  },
  async start(options: DriverOptions): Promise<BenchDriver> {
    // pythonia spawns $PYTHON_BIN (else python3) when it is first imported.
    process.env['PYTHON_BIN'] = options.python;
    const { python } = (await import('pythonia')) as unknown as PythoniaModule;
    const f = await python(join(options.pythonDir, 'bench_funcs.py'));
    const pid = Number(await f['pid']!());
    return {
      workers: 1,
      add: async (a, b) => Number(await f['add']!(a, b)),
      sumList: async (values) => Number(await f['sum_list']!(values)),
      cpu: (ms) => f['cpu']!(ms),
      sleep: (ms) => f['sleep']!(ms),
      async stream(n) {
        const gen = (await f['stream']!(n)) as unknown as AsyncIterable<unknown>;
        let count = 0;
        for await (const _chunk of gen) count++;
        return count;
      },
      // No bytes type crosses pythonia's JSON bridge; base64 text is what a user would send instead.
      async echoBytes(data) {
        const back = (await f['b64_echo']!(data.toString('base64'))) as string;
        return Buffer.from(back, 'base64');
      },
      // Nor does an Arrow table: its IPC stream goes as base64 text, and Python reads and writes it itself.
      async tableRoundTrip(table) {
        const { tableFromIPC, tableToIPC } = await import('apache-arrow');
        const ipc = Buffer.from(tableToIPC(table, 'stream')).toString('base64');
        return tableFromIPC(Buffer.from((await f['table_roundtrip_b64']!(ipc)) as string, 'base64'));
      },
      die: () => f['die']!(),
      fail: () => f['fail']!(),
      // pythonia's documented per-call timeout: a `$` call whose last argument holds `$timeout`.
      sleepWithTimeout: (ms, timeoutMs) => f['sleep$']!(ms, { $timeout: timeoutMs }),
      pythonPids: () => [pid],
      close: async () => python.exit(),
    };
  },
};
