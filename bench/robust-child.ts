/**
 * One robustness scenario for one system, in a fresh Node process:
 * `node dist/bench/robust-child.js <system> <scenario> <options-json>`.
 * Prints `EVENT <json>` lines as things happen, so the parent still learns what happened when this process
 * hangs or is taken down by the bridge (the parent applies the deadlines and kills what overruns).
 */
import { systemById } from './systems/index.js';
import type { DriverOptions } from './systems/types.js';

function event(what: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`EVENT ${JSON.stringify({ what, ...fields })}\n`);
}

function describeError(err: unknown): Record<string, unknown> {
  const e = err as {
    name?: string;
    message?: string;
    stack?: string;
    pythonType?: string;
    traceback?: string;
  };
  // Some bridges reject with a plain string rather than an Error.
  const text =
    typeof err === 'string' ? err : [e?.name, e?.message, e?.stack, e?.traceback].filter(Boolean).join('\n');
  return {
    name: e?.name ?? typeof err,
    message: String(e?.message ?? err)
      .split('\n')[0]!
      .slice(0, 160),
    pythonType: e?.pythonType,
    hasType: /ValueError/.test(text),
    hasMessage: text.includes('bench failure marker'),
    hasTraceback: text.includes('bench_funcs.py') && /\binner\b/.test(text),
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

const [systemId, scenario, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}') as DriverOptions;
const driver = await systemById(systemId!).start(options);
event('started', { pids: driver.pythonPids() });

switch (scenario) {
  case 'die': {
    const r = await timed(() => driver.die());
    event(r.error ? 'rejected' : 'resolved', { ms: r.ms, ...(r.error ? describeError(r.error) : {}) });
    const next = await timed(() => driver.add(2, 3));
    event('next-call', {
      ms: next.ms,
      ok: next.value === 5,
      ...(next.error ? describeError(next.error) : {}),
    });
    break;
  }
  case 'hang': {
    if (!driver.sleepWithTimeout) {
      event('no-timeout');
      setTimeout(() => event('still-pending', { ms: 3000 }), 3000);
      await driver.sleep(10_000);
      event('resolved');
      break;
    }
    const r = await timed(() => driver.sleepWithTimeout!(10_000, 500));
    event(r.error ? 'rejected' : 'resolved', { ms: r.ms, ...(r.error ? describeError(r.error) : {}) });
    const next = await timed(() => driver.add(2, 3));
    event('next-call', { ms: next.ms, ok: next.value === 5 });
    break;
  }
  case 'raise': {
    const r = await timed(() => driver.fail());
    event(r.error ? 'rejected' : 'resolved', { ms: r.ms, ...(r.error ? describeError(r.error) : {}) });
    break;
  }
  case 'idle-exit': {
    await driver.add(1, 1);
    event('idle'); // no close(): does the host exit on its own?
    break;
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
if (scenario !== 'idle-exit') {
  await driver.close().catch(() => {});
  event('closed');
  process.exit(0);
}
