// Object references with real workers: round trip, methods and attributes, release (explicit, by GC, at
// session end), refusal across sessions, lost workers. Python's own memory is checked from Python.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentsError,
  PyRef,
  PythonAttributeError,
  SerializationError,
  SessionLostError,
  type Snakepit,
} from '../../src/index.js';
import { eventually, start } from '../helpers.js';

const STATEFUL = 'snakepit_fixtures.stateful:StatefulAdapter';

interface PythonState {
  sessions: string[];
  refs: number;
  models: number;
  names: string[];
  pid: number;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe.each(['msgpack', 'json'] as const)('object references over %s', (codec) => {
  let pit: Snakepit;
  const state = async (): Promise<PythonState> => (await pit.execute('python_state')) as PythonState;
  beforeAll(async () => {
    pit = await start({ adapter: STATEFUL, size: 1, codec });
  });
  afterAll(() => pit?.close());

  it('round-trips: create a Python object, call its methods, pass it to another tool, release it', async () => {
    const base = (await state()).models;
    const ref = await pit.executeInSession<PyRef>('s1', 'make_model', { name: 'alpha', weight: 2 });
    expect(ref).toBeInstanceOf(PyRef);
    expect(ref).toMatchObject({ type: 'Model', module: 'snakepit_fixtures.stateful', sessionId: 's1' });
    expect(ref.workerId).toBe('default-1');
    expect(ref.repr).toBe("Model('alpha', weight=2.0)"); // weight: float receives a float (docs/VALUES.md)
    expect(String(ref)).toMatch(/^PyRef<Model r\d+>$/);
    expect((await state()).models).toBe(base + 1);

    expect(await pit.callMethod(ref, 'predict', [3])).toBe(6);
    expect(await pit.callMethod(ref, 'predict', [], { kwargs: { x: 5 } })).toBe(10);
    // execute's spelling: keywords, positional arguments in `_args`
    expect(await pit.callMethod(ref, 'predict', { x: 5 })).toBe(10);
    expect(await pit.callMethod(ref, 'predict', { _args: [3] })).toBe(6);
    expect(await pit.callMethod(ref, 'summary')).toEqual({ name: 'alpha', weight: 2 });
    expect(await pit.getAttr(ref, 'name')).toBe('alpha');
    expect(await pit.executeInSession('s1', 'use_model', { model: ref, x: 4 })).toEqual({
      type: 'Model',
      name: 'alpha',
      prediction: 8,
    });
    // Nested in a list and a map, too.
    expect(await pit.executeInSession('s1', 'use_model', { model: ref })).toMatchObject({ name: 'alpha' });

    const scaled = await pit.callMethod<PyRef>(ref, 'scale', [3]);
    expect(scaled).toBeInstanceOf(PyRef);
    expect(scaled.id).not.toBe(ref.id);
    expect(await pit.getAttr(scaled, 'weight')).toBe(6);
    const missing = await pit.getAttr(ref, 'nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(PythonAttributeError);

    ref.release();
    scaled.release();
    expect(ref.released).toBe(true);
    const after = await state(); // the release frames go before this call
    expect(after.models).toBe(base);
    const err = await pit.callMethod(ref, 'predict', [1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentsError);
    expect((err as Error).message).toMatch(/reference r\d+ \(Model\), which can no longer be used: released/);
  });

  it('is Disposable: Symbol.dispose (what `using` calls) releases the Python object', async () => {
    const base = (await state()).models;
    const ref = await pit.executeInSession<PyRef>('s1', 'make_model', { name: 'disposable' });
    expect((await state()).models).toBe(base + 1);
    ref[Symbol.dispose]();
    ref[Symbol.dispose](); // idempotent, as release() is
    expect(ref.released).toBe(true);
    expect((await state()).models).toBe(base);
  });

  it('returns explicit references inside a result', async () => {
    const pair = await pit.executeInSession<{ model: PyRef; score: number }>('s2', 'make_pair', {
      name: 'b',
    });
    expect(pair.score).toBe(0.5);
    expect(pair.model).toBeInstanceOf(PyRef);
    expect(await pit.getAttr(pair.model, 'name')).toBe('b');
    pair.model.release();
  });

  it('refuses a reference from a different session, and one passed with no session', async () => {
    const ref = await pit.executeInSession<PyRef>('owner', 'make_model', { name: 'private' });
    const other = await pit
      .executeInSession('intruder', 'use_model', { model: ref })
      .catch((e: unknown) => e);
    expect(other).toBeInstanceOf(InvalidArgumentsError);
    expect((other as Error).message).toContain(
      `args.model is reference ${ref.id} (Model) of session "owner", but this call is in session "intruder"`,
    );
    const none = await pit.execute('use_model', { model: [ref] }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(InvalidArgumentsError);
    expect((none as Error).message).toContain('args.model[0] is reference');
    expect((none as Error).message).toContain('this call has no session');
    ref.release();
  });

  it('frees the Python object when the handle is garbage-collected', async () => {
    await (async () => {
      // The handle lives only in this scope.
      const ref = await pit.executeInSession<PyRef>('gc', 'make_model', { name: 'garbage' });
      expect(ref.type).toBe('Model');
    })();
    expect((await state()).names).toContain('garbage');
    // Collection and FinalizationRegistry callbacks run when V8 decides: collect, give the callbacks a turn.
    let names = ['garbage'];
    const deadline = Date.now() + 10_000;
    while (names.includes('garbage') && Date.now() < deadline) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      names = (await state()).names;
    }
    expect(names).not.toContain('garbage');
  });

  it('ends references with their session', async () => {
    const ref = await pit.executeInSession<PyRef>('ending', 'make_model', { name: 'short-lived' });
    const before = await state();
    expect(pit.sessions.delete('ending')).toBe(true);
    expect(ref.released).toBe(true);
    expect(ref.endReason).toBe('its session "ending" ended');
    const after = await state();
    expect(after.models).toBe(before.models - 1);
    await expect(pit.callMethod(ref, 'predict', [1])).rejects.toThrow(/session "ending" ended/);
  });

  it('refuses bad arguments to callMethod and getAttr before sending anything', async () => {
    const ref = await pit.executeInSession<PyRef>('bad', 'make_model', { name: 'x' });
    await expect(pit.callMethod({ id: 'r1' } as unknown as PyRef, 'predict')).rejects.toThrow(
      /expected a PyRef/,
    );
    await expect(pit.callMethod(ref, '')).rejects.toThrow(/non-empty string/);
    await expect(pit.callMethod(ref, 'predict', 3 as unknown as unknown[])).rejects.toThrow(
      /arguments must be a plain object/,
    );
    await expect(pit.callMethod(ref, 'predict', { _args: 3 })).rejects.toThrow(/`_args` must be an array/);
    await expect(pit.callMethod(ref, 'predict', {}, { kwargs: { a: 1 } })).rejects.toThrow(/array spelling/);
    await expect(
      pit.callMethod(ref, 'predict', [], { kwargs: [] as unknown as Record<string, unknown> }),
    ).rejects.toThrow(/kwargs must be a plain object/);
    await expect(pit.getAttr(ref, 42 as unknown as string)).rejects.toBeInstanceOf(InvalidArgumentsError);
    expect(await pit.callMethod(ref, 'predict', [1])).toBe(1); // the worker is fine
    ref.release();
  });

  it('says how to get a reference when a result cannot be sent outside a session', async () => {
    const err = await pit.execute('make_model').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SerializationError);
    expect((err as Error).message).toContain('sessionId');
  });
});

describe('references and lost workers', () => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await start({ adapter: STATEFUL, size: 2, affinity: 'prefer' });
  });
  afterAll(() => pit?.close());

  it('fails a call on a reference whose worker died with SessionLostError', async () => {
    const ref = await pit.executeInSession<PyRef>('s', 'make_model', { name: 'doomed' });
    const pid = pit.workers().find((w) => w.id === ref.workerId)!.pid!;
    process.kill(pid, 'SIGKILL');
    await eventually(() => !pit.workers().some((w) => w.pid === pid), 5000, 'the worker to be gone');
    const err = await pit.callMethod(ref, 'predict', [1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionLostError);
    expect((err as Error).message).toContain(`lived on worker ${ref.workerId}, which is gone`);
  });

  it('routes a call carrying a reference to the worker that holds it, even with prefer affinity', async () => {
    const ref = await pit.executeInSession<PyRef>('p', 'make_model', { name: 'pinned' });
    const long = pit.executeInSession('p', 'sleep', { seconds: 0.5 }); // the session's worker is busy
    const used = await pit.executeInSession('p', 'use_model', { model: ref });
    expect(used).toMatchObject({ name: 'pinned' });
    await long;
  });
});
