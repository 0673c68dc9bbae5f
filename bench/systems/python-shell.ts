/**
 * python-shell: a Python script driven over stdin/stdout lines, in its persistent mode (one long-lived process per
 * PythonShell). It has no request ids, so the harness adds them (bench/python/shell_server.py); N instances are
 * used round-robin to give it the same worker count as the pool.
 */
import type { BenchDriver, DriverOptions, SystemSpec } from './types.js';

interface Shell {
  childProcess: { pid?: number };
  send(message: string): void;
  on(event: 'message', listener: (line: string) => void): void;
  end(callback: (err: unknown) => void): void;
  kill(signal?: string): void;
}
interface PythonShellModule {
  PythonShell: new (script: string, options: Record<string, unknown>) => Shell;
}

interface Answer {
  id: number;
  result?: unknown;
  error?: string;
  type?: string;
  traceback?: string;
  chunk?: unknown;
  end?: boolean;
}

export class ShellPool {
  readonly #shells: Shell[] = [];
  readonly #pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; onChunk?: () => void }
  >();
  #nextId = 1;
  #rr = 0;

  constructor(module: PythonShellModule, options: DriverOptions, workers: number) {
    for (let i = 0; i < workers; i++) {
      const shell = new module.PythonShell('shell_server.py', {
        mode: 'text',
        pythonPath: options.python,
        pythonOptions: ['-u'],
        scriptPath: options.pythonDir,
      });
      shell.on('message', (line) => this.#onLine(line));
      this.#shells.push(shell);
    }
  }

  get pids(): number[] {
    return this.#shells.map((s) => s.childProcess.pid!);
  }

  #onLine(line: string): void {
    const answer = JSON.parse(line) as Answer;
    const pending = this.#pending.get(answer.id);
    if (!pending) return;
    if (answer.chunk !== undefined) {
      pending.onChunk?.();
      return;
    }
    this.#pending.delete(answer.id);
    if (answer.error !== undefined) {
      const err = new Error(`${answer.type}: ${answer.error}`);
      err.stack = `${err.message}\n${answer.traceback ?? ''}`;
      pending.reject(err);
    } else pending.resolve(answer.end ? undefined : answer.result);
  }

  call(fn: string, args: unknown[], onChunk?: () => void): Promise<unknown> {
    const id = this.#nextId++;
    const shell = this.#shells[this.#rr++ % this.#shells.length]!;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, ...(onChunk ? { onChunk } : {}) });
      shell.send(JSON.stringify({ id, fn, args }));
    });
  }

  close(): Promise<void> {
    return Promise.all(this.#shells.map((s) => new Promise<void>((r) => s.end(() => r())))).then(
      () => undefined,
    );
  }
}

export const pythonShell: SystemSpec = {
  id: 'python-shell',
  label: 'python-shell',
  async unavailable() {
    try {
      await import('python-shell');
      return undefined;
    } catch {
      return 'the python-shell package is not installed (npm ci installs it as a devDependency)';
    }
  },
  async start(options: DriverOptions): Promise<BenchDriver> {
    const module = (await import('python-shell')) as unknown as PythonShellModule;
    const pool = new ShellPool(module, options, options.workers);
    await Promise.all(pool.pids.map(() => pool.call('add', [1, 1])));
    return {
      workers: options.workers,
      add: async (a, b) => Number(await pool.call('add', [a, b])),
      sumList: async (values) => Number(await pool.call('sum_list', [values])),
      cpu: (ms) => pool.call('cpu', [ms]),
      sleep: (ms) => pool.call('sleep', [ms]),
      async stream(n) {
        let count = 0;
        await pool.call('stream', [n], () => count++);
        return count;
      },
      // JSON lines carry text only: bytes go as base64, as a python-shell user would send them.
      async echoBytes(data) {
        const back = (await pool.call('echo_bytes', [data.toString('base64')])) as string;
        return Buffer.from(back, 'base64');
      },
      // An Arrow table likewise: its IPC stream as base64, read and written by Python itself.
      async tableRoundTrip(table) {
        const { tableFromIPC, tableToIPC } = await import('apache-arrow');
        const ipc = Buffer.from(tableToIPC(table, 'stream')).toString('base64');
        return tableFromIPC(Buffer.from((await pool.call('table_roundtrip_ipc', [ipc])) as string, 'base64'));
      },
      die: () => pool.call('die', []),
      fail: () => pool.call('fail', []),
      pythonPids: () => pool.pids,
      close: () => pool.close(),
    };
  },
};
