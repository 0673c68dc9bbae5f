// Sessions with real workers: affinity (strict and prefer), lost workers, head-of-line, TTL expiry, the store.
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentsError, SessionLostError, type Snakepit } from '../../src/index.js';
import { eventually, start } from '../helpers.js';

const STATEFUL = 'snakepit_fixtures.stateful:StatefulAdapter';

interface Who {
  pid: number;
  worker: string;
  session: string | null;
}
interface PythonState {
  sessions: string[];
  refs: number;
  models: number;
  pid: number;
}

let pit: Snakepit | undefined;
afterEach(async () => {
  await pit?.close();
  pit = undefined;
});

async function killWorkerOf(p: Snakepit, pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  await eventually(() => !p.workers().some((w) => w.pid === pid), 5000, 'the killed worker to be gone');
}

/** A pool of 2 with session "s" holding state on one worker, and that worker SIGKILLed (its pid returned). */
async function loseTheSessionWorker(
  affinity: 'strict' | 'strict_fail_fast' | 'prefer',
): Promise<{ p: Snakepit; pid: number }> {
  const p = (pit = await start({ adapter: STATEFUL, size: 2, affinity }));
  const pid = (await p.executeInSession<number>('s', 'remember', {
    key: 'model',
    value: 'loaded',
  })) as number;
  expect(await p.executeInSession('s', 'recall', { key: 'model' })).toBe('loaded');
  await killWorkerOf(p, pid);
  return { p, pid };
}

describe('affinity', () => {
  it('holds over 200 calls with 4 workers while other traffic runs', async () => {
    pit = await start({ adapter: STATEFUL, size: 4 });
    const p = pit;
    const sessions = ['alpha', 'beta', 'gamma', 'delta'];
    const sessionCalls: Array<Promise<[string, Who]>> = [];
    const otherCalls: Array<Promise<Who>> = [];
    for (let i = 0; i < 50; i++) {
      for (const s of sessions) {
        sessionCalls.push(p.executeInSession<Who>(s, 'whoami', { pause: 0.001 }).then((w) => [s, w]));
        otherCalls.push(p.execute<Who>('whoami', { pause: 0.001 }));
      }
    }
    const results = await Promise.all(sessionCalls);
    const others = await Promise.all(otherCalls);
    expect(results).toHaveLength(200);
    for (const s of sessions) {
      const workers = new Set(results.filter(([name]) => name === s).map(([, w]) => w.worker));
      expect(workers.size, `session ${s} ran on ${[...workers].join(', ')}`).toBe(1);
      const info = p.sessions.get(s)!;
      expect(info.workers['default']).toBe([...workers][0]);
      expect(info.calls).toBe(50);
      expect(info.inFlight).toBe(0);
    }
    expect(results.every(([s, w]) => w.session === s)).toBe(true);
    expect(others.every((w) => w.session === null)).toBe(true);
    expect(new Set(others.map((w) => w.worker)).size).toBeGreaterThan(1); // the other traffic spread out
  });

  it('strict: a session call waits for its busy worker without holding up the calls behind it', async () => {
    pit = await start({ adapter: STATEFUL, size: 2, affinity: 'strict' });
    const p = pit;
    const home = (await p.executeInSession<Who>('s', 'whoami')).worker;
    const order: string[] = [];
    const long = p.executeInSession('s', 'sleep', { seconds: 0.8 }).then(() => order.push('long'));
    const waiting = p.executeInSession<Who>('s', 'whoami').then((w) => {
      order.push('session');
      return w;
    });
    const other = p.execute<Who>('whoami').then((w) => {
      order.push('other');
      return w;
    });
    const [, afterLong, otherWho] = await Promise.all([long, waiting, other]);
    expect(order).toEqual(['other', 'long', 'session']); // `other` did not queue behind the parked call
    expect(afterLong.worker).toBe(home);
    expect(otherWho.worker).not.toBe(home);
  });

  it('prefer: a session call takes another worker while its own is busy', async () => {
    pit = await start({ adapter: STATEFUL, size: 2, affinity: 'prefer' });
    const p = pit;
    const home = (await p.executeInSession<Who>('s', 'whoami')).worker;
    const long = p.executeInSession('s', 'sleep', { seconds: 0.8 });
    const meanwhile = await p.executeInSession<Who>('s', 'whoami');
    expect(meanwhile.worker).not.toBe(home);
    await long;
  });

  it('strict (strict_queue): after the session worker is killed, the next call gets SessionLostError, once', async () => {
    const { p, pid } = await loseTheSessionWorker('strict');
    const err = (await p.executeInSession('s', 'recall', { key: 'model' }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(SessionLostError);
    expect((err as SessionLostError).sessionId).toBe('s');
    expect(err.message).toMatch(/session "s" lost its worker default-\d/);
    // Reported once: the session carries on on another worker, from an empty state.
    expect(await p.executeInSession('s', 'recall', { key: 'model' })).toBeNull();
    expect(await p.executeInSession('s', 'remember', { key: 'model', value: 'reloaded' })).not.toBe(pid);
    expect(await p.executeInSession('s', 'recall', { key: 'model' })).toBe('reloaded');
  });

  it('strict_fail_fast: after the session worker is killed, every call fails until the session is ended', async () => {
    const { p } = await loseTheSessionWorker('strict_fail_fast');
    await expect(p.executeInSession('s', 'recall', { key: 'model' })).rejects.toBeInstanceOf(
      SessionLostError,
    );
    await expect(p.executeInSession('s', 'whoami')).rejects.toBeInstanceOf(SessionLostError);
    expect(p.sessions.delete('s')).toBe(true);
    expect(await p.executeInSession('s', 'recall', { key: 'model' })).toBeNull();
  });

  it('prefer: after the session worker is killed, the next call runs on another worker', async () => {
    const { p, pid } = await loseTheSessionWorker('prefer');
    const who = await p.executeInSession<Who>('s', 'whoami');
    expect(who.pid).not.toBe(pid);
    expect(await p.executeInSession('s', 'recall', { key: 'model' })).toBeNull(); // the state went with it
    expect(p.sessions.get('s')!.workers['default']).toBe(who.worker);
  });
});

describe('session lifetime', () => {
  it('expires an idle session after its TTL and frees its Python state', async () => {
    pit = await start({ adapter: STATEFUL, size: 1, sessions: { ttlMs: 300, cleanupIntervalMs: 50 } });
    const p = pit;
    const ended: string[] = [];
    p.on('session:ended', (e) => ended.push(`${e.session}:${e.reason}`));
    await p.executeInSession('short', 'remember', { key: 'k', value: 'x'.repeat(1000) });
    const ref = await p.executeInSession('short', 'make_model', { name: 'm' });
    await p.executeInSession('kept', 'remember', { key: 'k', value: 1 }, {});
    let state = (await p.execute('python_state')) as PythonState;
    expect(state.sessions).toEqual(['kept', 'short']);
    expect(state.refs).toBe(1);
    // Keep "kept" alive; "short" idles out.
    const keepAlive = setInterval(() => p.sessions.touch('kept'), 50);
    try {
      await eventually(() => !p.sessions.exists('short'), 5000, 'the session to expire');
    } finally {
      clearInterval(keepAlive);
    }
    expect(ended).toEqual(['short:expired']);
    state = (await p.execute('python_state')) as PythonState; // session_end is handled before this call
    expect(state.sessions).toEqual(['kept']);
    expect(state.refs).toBe(0);
    expect(state.models).toBe(0);
    expect((ref as { released: boolean }).released).toBe(true);
    expect(p.sessions.exists('kept')).toBe(true);
  });

  it('creates, inspects, updates and deletes sessions through pit.sessions', async () => {
    pit = await start({ adapter: STATEFUL, size: 1 });
    const p = pit;
    const created: string[] = [];
    p.on('session:created', (e) => created.push(e.session));
    const info = p.sessions.create('explicit', { ttlMs: 60_000, metadata: { user: 'ann' } });
    expect(info).toMatchObject({ id: 'explicit', ttlMs: 60_000, metadata: { user: 'ann' }, calls: 0 });
    expect(info.expiresAt).toBe(info.lastAccessedAt + 60_000);
    expect(() => p.sessions.create('explicit')).toThrow(InvalidArgumentsError);
    expect(() => p.sessions.create('')).toThrow(/non-empty string/);
    expect(() => p.sessions.update('nope', { ttlMs: 5 })).toThrow(/no session "nope"/);
    expect(p.sessions.update('explicit', { metadata: { user: 'bob' } }).metadata).toEqual({ user: 'bob' });
    await p.executeInSession('implicit', 'remember', { key: 'k', value: 1 });
    expect(p.sessions.list().sort()).toEqual(['explicit', 'implicit']);
    expect(created).toEqual(['explicit', 'implicit']);
    expect(p.sessions.get('implicit')).toMatchObject({
      calls: 1,
      inFlight: 0,
      workers: { default: 'default-1' },
    });
    expect(p.sessions.touch('implicit')).toBe(true);
    expect(p.sessions.touch('missing')).toBe(false);
    expect(p.sessions.delete('implicit')).toBe(true);
    expect(p.sessions.delete('implicit')).toBe(false);
    expect(((await p.execute('python_state')) as PythonState).sessions).toEqual([]);
    expect(p.sessions.stats()).toEqual({ active: 1, created: 2, deleted: 1, expired: 0 });
    await expect(p.executeInSession('', 'whoami')).rejects.toBeInstanceOf(InvalidArgumentsError);
  });

  it('streams in a session on the session worker (executeInSessionStream)', async () => {
    pit = await start({ adapter: STATEFUL, size: 2 });
    const p = pit;
    await p.executeInSession('s', 'remember', { key: 'k', value: 'state' });
    const chunks: unknown[] = [];
    for await (const c of p.executeInSessionStream('s', 'recall_stream', { key: 'k', n: 3 })) chunks.push(c);
    expect(chunks).toEqual([0, 1, 2].map((i) => ({ i, value: 'state' })));
    const viaCallback: unknown[] = [];
    await p.executeInSessionStream('s', 'recall_stream', { key: 'k', n: 2 }, (c) => viaCallback.push(c));
    expect(viaCallback).toHaveLength(2);
    expect(p.sessions.get('s')!.calls).toBe(3);
  });
});
