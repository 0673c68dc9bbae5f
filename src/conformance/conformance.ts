/**
 * `snakepit conformance`: check that a worker command speaks the local protocol (docs/WORKERS.md). Two layers:
 * raw checks below the pool (the `hello`, leaving on end of file, exit code 4 on a broken frame), then the same
 * checks a pool relies on, through a real pool of that command: calls, values, errors, streams with credit,
 * cancellation, heartbeats, sessions, a crash and its replacement, recycling, shutdown. Checks that need a
 * conformance tool the worker does not serve are skipped, and say so.
 */
import { isDeepStrictEqual } from 'node:util';
import { locateConfig } from '../config/locate-config.js';
import { resolveConfig } from '../config/resolve-config.js';
import {
  CallTimeoutError,
  InvalidArgumentsError,
  SerializationError,
  UnknownToolError,
  WorkerCrashedError,
} from '../errors/errors.js';
import { Snakepit } from '../snakepit.js';
import { commandWorkerEnv } from '../worker/worker-spawn.js';
import { spawnRaw } from './raw-worker.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  ms: number;
}

export interface ConformanceReport {
  command: string[];
  ok: boolean;
  checks: CheckResult[];
}

export interface ConformanceOptions {
  /** The worker's command line, executable first. */
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Called as each check ends (the CLI prints as it goes). */
  onCheck?: (check: CheckResult) => void;
}

/** The tools the full suite uses (docs/WORKERS.md, "The conformance tools"). */
export const CONFORMANCE_TOOLS = ['echo', 'fail', 'count', 'sleep', 'crash', 'remember', 'recall', 'pid'];

class Skip extends Error {}

const HEARTBEAT = { intervalMs: 100, timeoutMs: 1_500, hostTimeoutMs: 3_000 };

export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const checks: CheckResult[] = [];
  const check = async (name: string, body: () => Promise<string | void>): Promise<boolean> => {
    const t0 = Date.now();
    let result: CheckResult;
    try {
      const detail = await body();
      result = { name, status: 'pass', detail: detail ?? '', ms: Date.now() - t0 };
    } catch (err) {
      const skipped = err instanceof Skip;
      result = {
        name,
        status: skipped ? 'skip' : 'fail',
        detail: (err as Error).message,
        ms: Date.now() - t0,
      };
    }
    checks.push(result);
    options.onCheck?.(result);
    return result.status !== 'fail';
  };
  const skipRest = (names: string[], why: string): void => {
    for (const name of names) {
      const result: CheckResult = { name, status: 'skip', detail: why, ms: 0 };
      checks.push(result);
      options.onCheck?.(result);
    }
  };

  const poolConfig = {
    name: 'conformance',
    command: { executable: options.command[0]!, args: options.command.slice(1) },
    size: 1,
    workerConcurrency: 4,
    startupTimeoutMs: 15_000,
    heartbeat: HEARTBEAT,
    restart: { maxAttempts: 3, initialBackoffMs: 50 },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env } : {}),
  };
  const resolved = (
    await locateConfig(resolveConfig({ pools: [poolConfig], logger: false, registryDir: false }))
  ).pools[0]!;
  const env = commandWorkerEnv(resolved, 'conformance', 'conformance-raw');

  // ── raw: the handshake's first frame, end of file, a broken frame ──
  const handshake = async (): Promise<ReturnType<typeof spawnRaw>> => {
    const raw = spawnRaw(resolved.command!, env, options.cwd);
    try {
      const hello = await raw.nextMessage(10_000);
      if (hello['type'] !== 'hello')
        throw new Error(`first frame has type ${JSON.stringify(hello['type'])}, not "hello"`);
      if (hello['protocol'] !== 1)
        throw new Error(`hello.protocol is ${JSON.stringify(hello['protocol'])}, not 1`);
      const codecs = hello['codecs'];
      if (!Array.isArray(codecs) || !codecs.includes('json')) {
        throw new Error(`hello.codecs is ${JSON.stringify(codecs)}: every worker must offer "json"`);
      }
      raw.send({ type: 'welcome', protocol: 1, codec: 'json', max_frame_bytes: 1 << 20 });
      const ready = await raw.nextMessage(15_000);
      if (ready['type'] !== 'ready') {
        throw new Error(
          `answer to welcome has type ${JSON.stringify(ready['type'])}: ${JSON.stringify(ready).slice(0, 300)}`,
        );
      }
      if (!Array.isArray(ready['tools'])) throw new Error('ready.tools is not a list');
      return raw;
    } catch (err) {
      raw.kill();
      const exit = await raw.exited(500);
      throw new Error(
        `${(err as Error).message}${exit !== undefined ? ` (the worker exited: ${exit})` : ''}`,
      );
    }
  };
  const started = await check('handshake: hello, welcome, ready', async () => {
    const raw = await handshake();
    raw.kill();
  });
  if (!started) {
    skipRest(['leaves on end of file', 'exit 4 on a broken frame', 'pool'], 'the handshake failed');
    return { command: options.command, ok: false, checks };
  }
  await check('leaves on end of file', async () => {
    const raw = await handshake();
    raw.channel.end();
    const code = await raw.exited(2_000);
    raw.kill();
    if (code === undefined)
      throw new Error('still running 2 s after the host closed the channel (must exit within 1 s)');
    if (code !== 0) throw new Error(`exited with ${code}, not 0`);
  });
  await check('exit 4 on a broken frame', async () => {
    const raw = await handshake();
    raw.sendRaw(Buffer.from([0, 0, 0, 5, 0xff, 0xfe, 0x00, 0x01, 0x02]));
    const code = await raw.exited(2_000);
    raw.kill();
    if (code === undefined) throw new Error('still running 2 s after an undecodable frame');
    if (code !== 4) throw new Error(`exited with ${code}, not 4 (protocol error from the host)`);
  });

  // ── through a pool ──
  let pit: Snakepit | undefined;
  const poolStarted = await check('pool: starts and lists tools', async () => {
    pit = await Snakepit.start({ pools: [poolConfig], logger: false, registryDir: false });
    const tools = pit.describe().map((t) => t.name);
    const missing = CONFORMANCE_TOOLS.filter((t) => !tools.includes(t));
    return `${tools.length} tools${missing.length ? `; without ${missing.join(', ')} (their checks are skipped)` : ''}`;
  });
  if (!poolStarted || !pit) {
    return { command: options.command, ok: false, checks };
  }
  const p = pit;
  const serves = new Set(p.describe().map((t) => t.name));
  const need = (...tools: string[]): void => {
    const missing = tools.filter((t) => !serves.has(t));
    if (missing.length) throw new Skip(`the worker does not serve ${missing.join(', ')}`);
  };
  const workerPid = (): number | undefined => p.workers()[0]?.pid;
  /** Wait (up to 3 s) until the worker holds no call: a failed check before may have left one to be killed. */
  const idle = async (): Promise<void> => {
    const t0 = Date.now();
    while (p.workers().some((w) => w.load > 0 || w.state !== 'ready') && Date.now() - t0 < 3_000) {
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await check('call: values round trip (JSON forms)', async () => {
      need('echo');
      const values = [
        null,
        true,
        0,
        -7,
        2.5,
        'text ü → 🐍',
        '',
        [1, [2, [3]]],
        { a: { b: [null, 'x'] } },
        {},
      ];
      for (const value of values) {
        const got = await p.execute('echo', { value }, { timeoutMs: 5_000 });
        if (!isDeepStrictEqual(got, value)) {
          throw new Error(`echo(${JSON.stringify(value)}) returned ${JSON.stringify(got)}`);
        }
      }
    });
    await check('call: tagged values (bytes, big integers, dates, NaN)', async () => {
      need('echo');
      const value = {
        b: Buffer.from([0, 255]),
        n: 2n ** 70n,
        d: new Date('2024-01-02T03:04:05.678Z'),
        f: NaN,
      };
      let got: unknown;
      try {
        got = await p.execute('echo', { value }, { timeoutMs: 5_000 });
      } catch (err) {
        if (err instanceof SerializationError)
          throw new Skip('the worker reads plain JSON only (tags are optional)');
        throw err;
      }
      if (!isDeepStrictEqual(got, value)) throw new Error(`echo returned ${String(got)}, not the value sent`);
    });
    await check('call: concurrent calls matched by id', async () => {
      need('echo');
      const got = await Promise.all(Array.from({ length: 16 }, (_, i) => p.execute('echo', { value: i })));
      if (!got.every((v, i) => v === i)) throw new Error(`answers out of place: ${JSON.stringify(got)}`);
    });
    await check('errors: unknown tool', async () => {
      try {
        await p.execute('no_such_tool_conformance', {}, { timeoutMs: 5_000 });
      } catch (err) {
        if (err instanceof UnknownToolError) return;
        throw new Error(
          `expected an unknown_tool error, got ${(err as Error).name}: ${(err as Error).message}`,
        );
      }
      throw new Error('a call to an unknown tool succeeded');
    });
    await check('errors: a tool that throws', async () => {
      need('fail', 'echo');
      try {
        await p.execute('fail', { message: 'conformance-boom' }, { timeoutMs: 5_000 });
      } catch (err) {
        const e = err as Error & { code?: string };
        if (e instanceof WorkerCrashedError)
          throw new Error('the worker died instead of answering with an error');
        if (!e.message.includes('conformance-boom'))
          throw new Error(`the error does not carry the message: ${e.message}`);
        if (await p.execute('echo', { value: 1 })) return `${e.name} (${e.code})`;
      }
      throw new Error('fail() returned a result instead of an error');
    });
    await check('streams: chunks in order under credit', async () => {
      need('count');
      const got: unknown[] = [];
      for await (const chunk of p.executeStream('count', { n: 12 }, { window: 2, timeoutMs: 10_000 }))
        got.push(chunk);
      const want = Array.from({ length: 12 }, (_, i) => i);
      if (!isDeepStrictEqual(got, want))
        throw new Error(`chunks ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      try {
        await p.execute('count', { n: 2 }, { timeoutMs: 5_000 });
      } catch (err) {
        if (err instanceof InvalidArgumentsError || err instanceof Error) return;
      }
    });
    await check('cancel: a timed-out call is answered, the worker kept', async () => {
      need('sleep', 'echo');
      const before = workerPid();
      const t0 = Date.now();
      try {
        await p.execute('sleep', { ms: 20_000 }, { timeoutMs: 300 });
        throw new Error('sleep(20 s) finished inside a 300 ms timeout');
      } catch (err) {
        if (!(err instanceof CallTimeoutError)) throw err;
      }
      // The worker's slot frees only when it answers the cancel; the host kills it after 5 s otherwise.
      while ((p.workers()[0]?.load ?? 0) > 0) {
        if (Date.now() - t0 > 4_000) {
          throw new Error('no answer to the cancel within 4 s (the host kills a worker that takes 5 s)');
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const ms = Date.now() - t0;
      await p.execute('echo', { value: 'after cancel' }, { timeoutMs: 10_000 });
      if (workerPid() !== before)
        throw new Error('the worker was replaced: it did not answer the cancel within 5 s');
      return `answered in ${ms} ms`;
    });
    await check('heartbeat: answers pings while idle', async () => {
      need('echo');
      await idle();
      const before = workerPid();
      await new Promise((r) => setTimeout(r, HEARTBEAT.timeoutMs + 500));
      await p.execute('echo', { value: 1 });
      if (workerPid() !== before) throw new Error('the worker was replaced for not answering pings');
    });
    await check('sessions: state kept per session', async () => {
      need('remember', 'recall');
      await p.execute('remember', { key: 'k', value: 'in s1' }, { sessionId: 'conformance-s1' });
      const same = await p.execute('recall', { key: 'k' }, { sessionId: 'conformance-s1' });
      const other = await p.execute('recall', { key: 'k' }, { sessionId: 'conformance-s2' });
      if (same !== 'in s1') throw new Error(`recall in the same session gave ${JSON.stringify(same)}`);
      if (other !== null)
        throw new Error(`recall in another session gave ${JSON.stringify(other)}, not null`);
      await p.sessions.delete('conformance-s1');
    });
    await check('crash: calls fail typed, the worker is replaced', async () => {
      need('crash', 'echo');
      const before = workerPid();
      try {
        await p.execute('crash', { code: 3 }, { timeoutMs: 5_000 });
        throw new Error('crash() returned');
      } catch (err) {
        if (!(err instanceof WorkerCrashedError)) throw err;
      }
      const got = await p.execute('echo', { value: 'after crash' }, { timeoutMs: 15_000 });
      if (got !== 'after crash') throw new Error(`the replacement answered ${JSON.stringify(got)}`);
      if (workerPid() === before) throw new Error('the same pid serves after the crash');
    });
    await check('recycle: replaced without failing a call', async () => {
      need('echo');
      const [worker] = p.workers();
      const exited = new Promise<{ code: number | null; crashed: boolean }>((resolve) => {
        const listener = (e: { worker: string; code: number | null; crashed: boolean }): void => {
          if (e.worker !== worker!.id) return;
          p.off('worker:exited', listener);
          resolve(e);
        };
        p.on('worker:exited', listener);
      });
      const during = p.execute('echo', { value: 'during recycle' });
      await p.recycleWorker(worker!.id);
      if ((await during) !== 'during recycle') throw new Error('a call during the recycle failed');
      const exit = await exited;
      if (exit.crashed || exit.code !== 0)
        throw new Error(
          `the old worker ended with code ${exit.code} (crashed ${exit.crashed}), not a clean 0 after shutdown`,
        );
      await p.execute('echo', { value: 1 });
    });
  } finally {
    await check('shutdown: bye, then exit 0', async () => {
      const [worker] = p.workers();
      const exited = new Promise<{ code: number | null; crashed: boolean }>((resolve) => {
        p.on('worker:exited', (e) => {
          if (e.worker === worker?.id) resolve(e);
        });
      });
      const t0 = Date.now();
      await p.close();
      const exit = await Promise.race([
        exited,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 1_000)),
      ]);
      if (!worker) throw new Skip('no worker left to stop');
      if (!exit) throw new Error('no exit seen');
      if (exit.code !== 0 || exit.crashed) throw new Error(`exited with code ${exit.code}, not 0`);
      return `${Date.now() - t0} ms`;
    });
  }
  return { command: options.command, ok: checks.every((c) => c.status !== 'fail'), checks };
}

/** The report as lines of text: one per check, then a summary. */
export function formatReport(report: ConformanceReport): string {
  const mark = { pass: 'PASS', fail: 'FAIL', skip: 'skip' } as const;
  const lines = report.checks.map(
    (c) =>
      `${mark[c.status]}  ${c.name}${c.detail ? ` — ${c.detail}` : ''}${c.status === 'pass' ? ` (${c.ms} ms)` : ''}`,
  );
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const skipped = report.checks.filter((c) => c.status === 'skip').length;
  lines.push(
    failed
      ? `${failed} of ${report.checks.length} checks FAILED: the worker does not conform (docs/WORKERS.md)`
      : `all checks passed${skipped ? ` (${skipped} skipped)` : ''}: the worker conforms`,
  );
  return lines.join('\n');
}
