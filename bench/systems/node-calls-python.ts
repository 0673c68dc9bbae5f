/**
 * node-calls-python: CPython embedded in the Node process through a native addon (no worker processes; one GIL).
 * `py.call` runs the function on libuv's thread pool and resolves with the result. Available only when its
 * native build succeeded at install time.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BenchDriver, DriverOptions, SystemSpec } from './types.js';

interface Interpreter {
  addImportPath(path: string): void;
  importSync(path: string): unknown;
  call(module: unknown, fn: string, ...args: unknown[]): Promise<unknown>;
}

const require = createRequire(import.meta.url);

function load(): Interpreter {
  return (require('node-calls-python') as { interpreter: Interpreter }).interpreter;
}

export const nodeCallsPython: SystemSpec = {
  id: 'node-calls-python',
  label: 'node-calls-python',
  async unavailable() {
    try {
      load();
      return undefined;
    } catch (err) {
      return `its native addon is not built here (${String((err as Error).message).split('\n')[0]}); npm skips install scripts on this machine`;
    }
  },
  async start(options: DriverOptions): Promise<BenchDriver> {
    const py = load();
    // The embedded interpreter finds the venv's packages (numpy) only through an explicit import path.
    const { execFileSync } = await import('node:child_process');
    const site = execFileSync(options.python, ['-c', 'import site; print(site.getsitepackages()[0])'])
      .toString()
      .trim();
    py.addImportPath(site);
    py.addImportPath(options.pythonDir);
    const f = py.importSync(join(options.pythonDir, 'bench_funcs.py'));
    return {
      workers: 0,
      add: async (a, b) => Number(await py.call(f, 'add', a, b)),
      sumList: async (values) => Number(await py.call(f, 'sum_list', values)),
      sumF64: async (values) => Number(await py.call(f, 'sum_f64', values)),
      // numpy arrays do not cross this bridge: the result comes back as bytes, viewed as float64s
      doubleF64: async (values) => {
        const out = (await py.call(f, 'double_f64_bytes', values)) as Uint8Array;
        const bytes = out.byteOffset % 8 === 0 ? out : new Uint8Array(out);
        return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
      },
      cpu: (ms) => py.call(f, 'cpu', ms),
      sleep: (ms) => py.call(f, 'sleep', ms),
      // no Arrow type crosses: the table goes as IPC bytes, and Python reads and writes them itself
      tableRoundTrip: async (table) => {
        const { tableFromIPC, tableToIPC } = await import('apache-arrow');
        return tableFromIPC(
          (await py.call(f, 'table_roundtrip_ipc', tableToIPC(table, 'stream'))) as Uint8Array,
        );
      },
      echoBytes: async (data) => (await py.call(f, 'echo_bytes', data)) as Uint8Array,
      die: () => py.call(f, 'die'),
      fail: () => py.call(f, 'fail'),
      pythonPids: () => [],
      close: async () => {},
    };
  },
};
