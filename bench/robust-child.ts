/**
 * One robustness scenario for one system, in a fresh Node process:
 * `node dist/bench/robust-child.js <system> <scenario> <options-json>`.
 * Prints `EVENT <json>` lines as things happen, so the parent still learns what happened when this process
 * hangs or is taken down by the bridge (the parent applies the deadlines and kills what overruns).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * Run one optional driver case and report its outcome: `unsupported` when the system has no such case, else
 * `resolved`/`rejected` with the time taken and what it returned. `gateName`: the case gets the path of a file
 * in a fresh temporary folder, which does not exist yet (the case's adapter waits for it).
 */
async function reportCase(
  run: ((gate: string) => Promise<object>) | undefined,
  gateName?: string,
): Promise<void> {
  if (!run) {
    event('unsupported');
    return;
  }
  const gate =
    gateName === undefined ? '' : join(mkdtempSync(join(tmpdir(), 'snakepit-bench-gate-')), gateName);
  const r = await timed(() => run(gate));
  event(r.error ? 'rejected' : 'resolved', {
    ms: r.ms,
    ...(r.value ?? {}),
    ...(r.error ? describeError(r.error) : {}),
  });
}

const [systemId, scenario, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}') as DriverOptions;
const driver = await systemById(systemId!).start(options);
event('started', { pids: driver.pythonPids() });

/**
 * Warm up `add` (50 calls, so a system that pipelines learns it is quick), then send 40 `add` calls at once with
 * `odd()` started in the middle; report how the 40 fared within 4 s (event "neighbours") and return the odd call.
 */
async function burstAround<T>(odd: () => Promise<T> | undefined): Promise<{ odd: Promise<T> | undefined }> {
  for (let i = 0; i < 50; i++) await driver.add(i, 1);
  let ok = 0;
  let failed = 0;
  let lastMs = 0;
  const t0 = performance.now();
  let oddCall: Promise<T> | undefined;
  const neighbours = Array.from({ length: 40 }, (_, i) => {
    if (i === 20) oddCall = odd();
    return driver.add(i, 1).then(
      (v) => {
        if (v === i + 1) ok++;
        else failed++;
        lastMs = performance.now() - t0;
      },
      () => {
        failed++;
        lastMs = performance.now() - t0;
      },
    );
  });
  await within(Promise.all(neighbours), 4000);
  event('neighbours', { ok, failed, pending: 40 - ok - failed, ms: lastMs });
  return { odd: oddCall }; // wrapped: returned bare, the async function would wait for it
}

/** `promise`'s value, or undefined if it has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, new Promise<undefined>((res) => setTimeout(() => res(undefined), ms))]);
}

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
  case 'neighbour': {
    // The worker learns that `add` is quick (snakepit then pipelines calls into a busy worker), then 40 calls go
    // out at once with one that kills its Python process among them: what happens to the 40?
    const { odd: poisoned } = await burstAround(() => timed(() => driver.die()));
    const r = await within(poisoned!, 1000);
    event('poisoned', r ? { ms: r.ms, ...(r.error ? describeError(r.error) : {}) } : { pending: true });
    break;
  }
  case 'hung-neighbour': {
    // As 'neighbour', but the odd call hangs (a 10 s sleep) past its 500 ms timeout, where the system has one.
    const { odd: hung } = await burstAround(() => {
      if (driver.sleepWithTimeout) return timed(() => driver.sleepWithTimeout!(10_000, 500));
      event('no-timeout');
      void driver.sleep(10_000).catch(() => {});
      return undefined;
    });
    if (hung) {
      const r = await within(hung, 1000);
      event(
        'hung',
        r
          ? { ms: r.ms, error: Boolean(r.error), ...(r.error ? describeError(r.error) : {}) }
          : { pending: true },
      );
    }
    break;
  }
  case 'broken-beside-healthy':
    await reportCase(driver.brokenBesideHealthy?.bind(driver), 'never-created');
    break;
  case 'recycle-session':
    await reportCase(driver.counterAcrossRecycle?.bind(driver));
    break;
  case 'heal':
    await reportCase(driver.healAfterFix?.bind(driver), 'dependency');
    break;
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
