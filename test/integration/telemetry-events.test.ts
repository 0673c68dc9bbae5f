// Every event docs/TELEMETRY.md lists fires in a real run — restarts, recycling, missed heartbeats, a degraded
// pool included — with exactly the fields the page documents, on `pit.on` and on diagnostics_channel alike.
import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  channelName,
  EVENT_NAMES,
  PoolSaturatedError,
  Snakepit,
  type PoolConfig,
  type SnakepitEvents,
} from '../../src/index.js';
import { eventually, FIXTURES_PYTHONPATH } from '../helpers.js';

type Payload = Record<string, unknown>;

/** The event table of docs/TELEMETRY.md: event name → documented fields. */
function documentedEvents(): Map<string, string[]> {
  const doc = readFileSync(new URL('../../docs/TELEMETRY.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('### Every event'), doc.indexOf('### Fields'));
  const events = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const m = /^\| `([a-z]+(?::[a-z-]+)?)` \| ((?:`\w+`(?:, )?)+) \|/.exec(line);
    if (m)
      events.set(
        m[1]!,
        [...m[2]!.matchAll(/`(\w+)`/g)].map((x) => x[1]!),
      );
  }
  return events;
}

const MAIN = 'tele-main';
const TINY = 'tele-tiny';
const FLAKY = 'tele-flaky';
const OURS = new Set([MAIN, TINY, FLAKY]);
const dir = mkdtempSync(join(tmpdir(), 'snakepit-tele-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ours = (p: Payload): boolean =>
  OURS.has(p['pool'] as string) || String(p['session'] ?? '').startsWith('tele-');

describe('telemetry events', () => {
  it('the documented events are exactly the ones the code emits', () => {
    expect([...documentedEvents().keys()].sort()).toEqual([...EVENT_NAMES].sort());
  });

  it('every documented event fires in a real run, with the documented fields', async () => {
    const documented = documentedEvents();
    const viaChannel = new Map<string, Payload[]>();
    const viaOn = new Map<string, Payload[]>();
    const subscriptions = EVENT_NAMES.map((name) => {
      const fn = (message: unknown): void => {
        const p = message as Payload;
        if (ours(p)) (viaChannel.get(name) ?? viaChannel.set(name, []).get(name)!).push(p);
      };
      diagnosticsChannel.subscribe(channelName(name), fn);
      return () => diagnosticsChannel.unsubscribe(channelName(name), fn);
    });
    const got = (name: keyof SnakepitEvents): Payload[] => viaChannel.get(name) ?? [];

    let pit: Snakepit | undefined;
    try {
      const pools: PoolConfig[] = [
        {
          name: MAIN,
          adapter: 'snakepit_fixtures.observable:ObservableAdapter',
          size: 2,
          pipelineDepth: 1,
          heartbeat: { intervalMs: 100, timeoutMs: 1500, hostTimeoutMs: 20_000 },
        },
        {
          name: TINY,
          adapter: 'snakepit_fixtures.observable:ObservableAdapter',
          size: 1,
          pipelineDepth: 1,
          queue: { max: 1 },
          heartbeat: false,
        },
        {
          name: FLAKY,
          adapter: 'snakepit_fixtures.flaky_import:FlakyAdapter',
          size: 1,
          heartbeat: false,
          env: { FLAKY_MARKER: join(dir, 'flaky-marker') },
          restart: { maxAttempts: 1, initialBackoffMs: 10 },
          template: false, // cold starts: each replacement imports the adapter, which is what fails
        },
      ];
      pit = await Snakepit.start({
        logger: false,
        sessions: { cleanupIntervalMs: 50 },
        pools: pools.map((p) => ({ ...p, pythonPath: [FIXTURES_PYTHONPATH] })),
      });
      for (const name of EVENT_NAMES) {
        pit.on(name, (p) => {
          if (ours(p as Payload)) (viaOn.get(name) ?? viaOn.set(name, []).get(name)!).push(p as Payload);
        });
      }

      // Calls: a result, a Python error, a timeout, a stream, lines on every stream, events from Python.
      expect(await pit.execute('add', { a: 1, b: 2 }, { pool: MAIN })).toBe(3);
      await expect(pit.execute('fail', {}, { pool: MAIN })).rejects.toThrow('observable failure');
      await expect(pit.execute('sleep', { seconds: 5 }, { pool: MAIN, timeoutMs: 200 })).rejects.toThrow(
        /timed out/,
      );
      let chunks = 0;
      for await (const _ of pit.executeStream('count', { n: 5 }, { pool: MAIN })) chunks++;
      expect(chunks).toBe(5);
      const said = await pit.execute<{ worker: string }>('say', { text: 'tele' }, { pool: MAIN });
      expect(await pit.execute('emit', { value: 2.5 }, { pool: MAIN })).toMatch(/^tele-main-\d+$/);

      // Sessions: created by a call, deleted; created with a short TTL, expired.
      await pit.executeInSession('tele-s1', 'add', { a: 1, b: 1 }, { pool: MAIN });
      pit.sessions.delete('tele-s1');
      pit.sessions.create('tele-exp', { ttlMs: 30 });
      await eventually(() => got('session:expired').length > 0, 5000, 'session:expired');

      // Saturation: one call runs, one waits (queue.max 1), the third is refused.
      const running = pit.execute('sleep', { seconds: 0.3 }, { pool: TINY });
      await eventually(() => pit!.stats(TINY).busy === 1, 5000, 'the tiny worker to be busy');
      const waiting = pit.execute('sleep', { seconds: 0.01 }, { pool: TINY });
      await expect(pit.execute('add', { a: 1, b: 1 }, { pool: TINY })).rejects.toBeInstanceOf(
        PoolSaturatedError,
      );
      await Promise.all([running, waiting]);

      // A session on the tiny pool's worker, whose state is lost when it is killed just below.
      await pit.executeInSession('tele-s2', 'add', { a: 2, b: 2 }, { pool: TINY });
      // A killed worker: its idempotent call is retried on the replacement.
      const retried = pit.execute(
        'sleep',
        { seconds: 0.5 },
        { pool: TINY, idempotent: true, timeoutMs: 20_000 },
      );
      await eventually(
        () => got('log').some((e) => e['pool'] === TINY && e['line'] === 'sleep start 0.5'),
        5000,
        'the idempotent call to run in Python',
      );
      process.kill(pit.workers(TINY)[0]!.pid!, 'SIGKILL');
      expect(await retried).toBe(0.5);

      // A worker killed before it read a call: the call never began, so it runs on the replacement.
      await eventually(() => pit!.stats(TINY).available === 1, 10_000, 'the tiny replacement');
      const tinyPid = pit.workers(TINY)[0]!.pid!;
      process.kill(tinyPid, 'SIGSTOP');
      const unread = pit.execute('add', { a: 3, b: 4 }, { pool: TINY });
      await eventually(() => pit!.stats(TINY).inFlight === 1, 5000, 'the call written to the stopped worker');
      process.kill(tinyPid, 'SIGKILL');
      expect(await unread).toBe(7);

      // Missed heartbeats: a stopped worker misses a few and is continued; another stays stopped and is killed.
      const [a, b] = pit.workers(MAIN);
      process.kill(a!.pid!, 'SIGSTOP');
      await eventually(
        () => got('heartbeat:missed').some((e) => e['worker'] === a!.id),
        5000,
        'a missed beat',
      );
      process.kill(a!.pid!, 'SIGCONT');
      process.kill(b!.pid!, 'SIGSTOP');
      await eventually(
        () => got('worker:exited').some((e) => e['worker'] === b!.id && e['kind'] === 'hang_kill'),
        15_000,
        'the hung worker to be killed',
      );
      await eventually(
        () => got('worker:restarted').some((e) => e['pool'] === MAIN),
        15_000,
        'its replacement',
      );

      // Recycling by hand, under a session: its state moves to the replacement.
      await pit.executeInSession('tele-s3', 'add', { a: 1, b: 1 }, { pool: MAIN });
      const holder = pit.sessions.get('tele-s3')!.workers[MAIN]!;
      await pit.recycleWorker(holder);

      // A pool whose replacements cannot start gives up: degraded.
      process.kill(pit.workers(FLAKY)[0]!.pid!, 'SIGKILL');
      await eventually(() => got('pool:degraded').length > 0, 15_000, 'pool:degraded');
      // …and heals once the cause is gone.
      rmSync(join(dir, 'flaky-marker'));
      await pit.resume(FLAKY);
      const tele = (stream: string) => (e: Payload) =>
        e['stream'] === stream && String(e['line']).endsWith('text=tele');
      await eventually(
        () => ['stdout', 'stderr', 'logging'].every((s) => got('log').some(tele(s))),
        5000,
        'the lines of "say" on every stream',
      );

      // ── every documented event fired, with exactly its documented fields ──
      for (const [name, fields] of documented) {
        const payloads = viaChannel.get(name) ?? [];
        expect(payloads.length, `"${name}" never fired`).toBeGreaterThan(0);
        for (const p of payloads)
          expect(Object.keys(p).sort(), `fields of "${name}"`).toEqual([...fields].sort());
        // pit.on got the same payload objects (pool:ready fired before we could listen)
        if (name !== 'pool:ready') {
          const on = viaOn.get(name) ?? [];
          expect(on.length, `"${name}" via pit.on`).toBeGreaterThan(0);
          for (const p of on) expect(payloads).toContain(p);
        }
      }

      // ── and the values say what happened ──
      const ready = got('pool:ready').find((e) => e['pool'] === MAIN)!;
      expect(ready['workers']).toBe(2);
      expect(got('worker:ready').filter((e) => e['pool'] === MAIN).length).toBeGreaterThanOrEqual(2);
      expect(got('worker:ready')[0]!['python']).toMatch(/^3\.\d+/);

      const stops = got('call:stop');
      const add = stops.find((e) => e['tool'] === 'add' && e['pool'] === MAIN)!;
      expect(add).toMatchObject({ worker: expect.stringMatching(/^tele-main-/), stream: false, attempt: 1 });
      expect(add['durationMs']).toBeGreaterThanOrEqual(add['queueWaitMs'] as number);
      expect(stops.find((e) => e['tool'] === 'count')).toMatchObject({ stream: true, chunks: 5 });
      expect(stops.find((e) => e['session'] === 'tele-s1')).toMatchObject({ tool: 'add' });
      const exceptions = got('call:exception');
      expect(exceptions.find((e) => e['tool'] === 'fail')).toMatchObject({
        kind: 'python',
        errorName: 'PythonValueError',
        errorCode: 'SNAKEPIT_PYTHON_VALUE_ERROR',
      });
      expect(exceptions.find((e) => e['tool'] === 'sleep' && e['pool'] === MAIN)).toMatchObject({
        kind: 'timeout',
        errorName: 'CallTimeoutError',
      });
      expect(exceptions.find((e) => e['pool'] === TINY && e['tool'] === 'add')).toMatchObject({
        kind: 'error',
        errorName: 'PoolSaturatedError',
        worker: undefined,
      });
      // one call:start per dispatch; the retried call started twice and stopped once, at attempt 2
      const starts = got('call:start');
      expect(starts.filter((e) => e['pool'] === MAIN && e['tool'] === 'add').length).toBe(3);
      const retriedStarts = starts.filter((e) => e['pool'] === TINY && e['attempt'] === 2);
      expect(retriedStarts).toHaveLength(1);
      expect(stops.find((e) => e['callId'] === retriedStarts[0]!['callId'])).toMatchObject({ attempt: 2 });
      expect(got('call:retried')[0]).toMatchObject({ pool: TINY, tool: 'sleep', attempt: 2, kind: 'killed' });
      // each call's correlation id is the default one, <runId>-<callId>
      for (const e of [...starts, ...stops, ...exceptions])
        expect(e['correlationId']).toBe(`${pit.runId}-${String(e['callId'])}`);

      expect(got('pool:saturated')[0]).toMatchObject({ pool: TINY, queued: 1, max: 1, tool: 'add', busy: 1 });
      expect(got('worker:exited').find((e) => e['pool'] === TINY)).toMatchObject({
        crashed: true,
        signal: 'SIGKILL',
        kind: 'killed',
        callsInFlight: 1,
      });
      expect(got('worker:restarted').some((e) => e['pool'] === TINY)).toBe(true);
      const missed = got('heartbeat:missed');
      expect(
        missed.some((e) => e['worker'] === a!.id && e['fatal'] === false && (e['missed'] as number) >= 1),
      ).toBe(true);
      expect(missed.find((e) => e['worker'] === b!.id && e['fatal'] === true)).toMatchObject({
        timeoutMs: 1500,
      });
      expect(got('worker:recycled')[0]).toMatchObject({ pool: MAIN, worker: holder, reason: 'manual' });
      expect(got('worker:exited').find((e) => e['worker'] === holder)).toMatchObject({
        crashed: false,
        kind: 'stopped',
      });
      expect(got('session:handoff')).toMatchObject([
        { session: 'tele-s3', pool: MAIN, from: holder, values: 0, refs: 0, lost: [], error: undefined },
      ]);
      expect(got('session:lost')).toMatchObject([{ session: 'tele-s2', pool: TINY, reported: true }]);
      expect(got('call:returned')).toMatchObject([{ pool: TINY, tool: 'add', reason: 'not_begun' }]);
      expect(got('pool:degraded')[0]).toMatchObject({ pool: FLAKY, workers: 0 });
      expect(got('pool:recovered')[0]).toMatchObject({ pool: FLAKY, workers: 1 });
      expect(got('session:created').map((e) => e['session'])).toEqual([
        'tele-s1',
        'tele-exp',
        'tele-s2',
        'tele-s3',
      ]);
      expect(got('session:ended')).toEqual([
        { session: 'tele-s1', reason: 'deleted' },
        { session: 'tele-exp', reason: 'expired' },
      ]);
      expect(got('session:expired')).toEqual([{ session: 'tele-exp' }]);

      const events = got('python:event');
      expect(events.map((e) => (e['name'] as string[]).join('.'))).toEqual([
        'fixture.measured',
        'fixture.work.start',
        'fixture.work.stop',
      ]);
      expect(events[0]).toMatchObject({ pool: MAIN, measurements: { value: 2.5 } });
      const emitCall = stops.find((e) => e['tool'] === 'emit')!;
      for (const e of events) expect(e['correlationId']).toBe(emitCall['correlationId']); // Python knew the call's id

      const logs = got('log').filter((e) => (e['line'] as string).includes('text=tele'));
      const streams = new Set(logs.map((e) => `${String(e['stream'])}/${String(e['level'])}`));
      for (const s of ['stdout/info', 'stderr/warn', 'logging/info', 'logging/warn', 'logging/error'])
        expect(streams, s).toContain(s);
      for (const e of logs) expect(e).toMatchObject({ pool: MAIN, worker: said.worker });
    } finally {
      for (const unsubscribe of subscriptions) unsubscribe();
      await pit?.close();
    }
  }, 90_000);
});
