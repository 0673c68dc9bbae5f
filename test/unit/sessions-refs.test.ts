// The pure pieces of sessions and references, against fakes: the affinity picker, the wait lines, the session
// store (with a fake clock), the `ref` tag in both codecs, and the config keys.
import { testCall } from './test-call.js';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { ConfigError, InvalidArgumentsError } from '../../src/errors/errors.js';
import { Call } from '../../src/call/call.js';
import { pickWorker, type PickableWorker } from '../../src/pool/picker.js';
import { WaitLines } from '../../src/pool/wait-lines.js';
import { PyRef } from '../../src/refs/py-ref.js';
import { RefManager } from '../../src/refs/ref-manager.js';
import { SessionStore, type SessionEndReason } from '../../src/session/session-store.js';
import { jsonCodec } from '../../src/transport/codec-json.js';
import { msgpackCodec } from '../../src/transport/codec-msgpack.js';
import type { CallMessage, ReleaseMessage } from '../../src/protocol/messages.js';
function call(): Call {
  return testCall();
}

class FakeWorker implements PickableWorker {
  load = 0;
  pipelineBlockers = 0;
  constructor(
    readonly id: string,
    public state = 'ready',
  ) {}
}

describe('pickWorker', () => {
  const limits = { workerConcurrency: 1, pipelineDepth: 1 };
  const [w1, w2] = [new FakeWorker('w1'), new FakeWorker('w2')];

  it('picks the least loaded worker for a call with no affinity', () => {
    w1.load = 1;
    w2.load = 0;
    expect(pickWorker(undefined, [w1, w2], limits)).toEqual({ kind: 'worker', worker: w2 });
    w2.load = 1;
    expect(pickWorker(undefined, [w1, w2], limits)).toEqual({ kind: 'busy' });
  });

  it('strict: the bound worker, or wait for it, or lost when it is gone', () => {
    w1.load = 0;
    w2.load = 0;
    const strict = { workerId: 'w2', strict: true };
    expect(pickWorker(strict, [w1, w2], limits)).toEqual({ kind: 'worker', worker: w2 });
    w2.load = 1;
    expect(pickWorker(strict, [w1, w2], limits)).toEqual({ kind: 'wait', worker: w2 });
    expect(pickWorker(strict, [w1], limits)).toEqual({ kind: 'lost', workerId: 'w2' });
    const stopping = new FakeWorker('w2', 'stopping');
    expect(pickWorker(strict, [w1, stopping], limits)).toEqual({ kind: 'lost', workerId: 'w2' });
  });

  it('prefer: the bound worker when it has room, else any', () => {
    w1.load = 0;
    w2.load = 1;
    const prefer = { workerId: 'w2', strict: false };
    expect(pickWorker(prefer, [w1, w2], limits)).toEqual({ kind: 'worker', worker: w1 });
    expect(pickWorker(prefer, [w1], limits)).toEqual({ kind: 'worker', worker: w1 });
    w1.load = 1;
    expect(pickWorker(prefer, [w1, w2], limits)).toEqual({ kind: 'busy' });
  });
});

describe('WaitLines', () => {
  it('keeps one FIFO per worker and counts only live calls', () => {
    const lines = new WaitLines();
    const [a, b, c] = [call(), call(), call()];
    lines.park('w1', a);
    lines.park('w1', b);
    lines.park('w2', c);
    expect(lines.size).toBe(3);
    expect(lines.workerIds()).toEqual(['w1', 'w2']);
    a.fail(new Error('timed out while parked'));
    expect(lines.forget(a)).toBe(true);
    expect(lines.forget(call())).toBe(false);
    expect(lines.size).toBe(2);
    expect(lines.peek('w1')).toBe(b);
    expect(lines.shift('w1')).toBe(b);
    expect(lines.shift('w1')).toBeUndefined();
    expect(lines.take('w2')).toEqual([c]);
    expect(lines.size).toBe(0);
    expect(lines.workerIds()).toEqual([]);
  });
});

describe('SessionStore', () => {
  function store(ttlMs = 1000) {
    let now = 1_000_000;
    const ended: Array<[string, SessionEndReason, Record<string, string[]>]> = [];
    const s = new SessionStore({
      ttlMs,
      cleanupIntervalMs: 1 << 30,
      now: () => now,
      onEnd: (id, servedBy, reason) =>
        ended.push([id, reason, Object.fromEntries([...servedBy].map(([p, w]) => [p, [...w]]))]),
    });
    return { s, ended, advance: (ms: number) => (now += ms) };
  }

  it('creates sessions on first use, routes by the last worker, and tells every worker that served one', () => {
    const { s, ended } = store();
    s.callStarted('a');
    expect(s.workerFor('a', 'pool')).toBeUndefined();
    s.bound('a', 'pool', 'w1');
    s.callEnded('a');
    s.callStarted('a');
    s.bound('a', 'pool', 'w2'); // prefer affinity moved it
    s.callEnded('a');
    expect(s.workerFor('a', 'pool')).toBe('w2');
    expect(s.get('a')).toMatchObject({ calls: 2, inFlight: 0, workers: { pool: 'w2' } });
    expect(s.delete('a')).toBe(true);
    expect(ended).toEqual([['a', 'deleted', { pool: ['w1', 'w2'] }]]);
    expect(s.stats()).toEqual({ active: 0, created: 1, deleted: 1, expired: 0 });
  });

  it('expires idle sessions after their TTL, never one with a call in flight', () => {
    const { s, ended, advance } = store(1000);
    s.callStarted('busy');
    s.create('idle');
    s.create('long', { ttlMs: 10_000 });
    advance(1001);
    expect(s.sweep()).toBe(1);
    expect(ended.map(([id, reason]) => `${id}:${reason}`)).toEqual(['idle:expired']);
    s.callEnded('busy');
    advance(500);
    s.touch('long');
    expect(s.sweep()).toBe(0);
    advance(1001);
    expect(s.sweep()).toBe(1);
    expect(s.list()).toEqual(['long']);
    expect(s.get('long')!.expiresAt - s.get('long')!.lastAccessedAt).toBe(10_000);
  });

  it('refuses bad ids and options with InvalidArgumentsError', () => {
    const { s } = store();
    expect(() => s.create('x'.repeat(257))).toThrow(InvalidArgumentsError);
    expect(() => s.create('ok', { ttlMs: -1 })).toThrow(/ttlMs must be a positive number/);
    expect(() => s.create('ok2', { metadata: [] as unknown as Record<string, unknown> })).toThrow(/metadata/);
    expect(() => s.callStarted(42 as unknown as string)).toThrow(/session id must be a non-empty string/);
    expect(s.list()).toEqual([]);
  });
});

describe.each([msgpackCodec, jsonCodec])('the ref tag over $name', (codec) => {
  it('decodes to a PyRef adopted by the Snakepit of its run id, and encodes back to the same tag', () => {
    const sent: Array<[string | undefined, string, ReleaseMessage]> = [];
    const manager = new RefManager(`run-${codec.name}`, (pool, worker, message) =>
      sent.push([pool, worker, message]),
    );
    try {
      const tag = {
        __snakepit__: 'ref',
        id: 'r7',
        type: 'DataFrame',
        module: 'pandas.core.frame',
        repr: '   a\n0  1',
        session: 's1',
        worker: 'default-2',
        pool: 'default',
        run: `run-${codec.name}`,
      };
      // What a worker sends: the tag inside a result. Encode it as the host would (a TaggedValue) to get bytes.
      const frame = codec.encodeFrame(
        { type: 'call', id: 1, tool: 't', args: { v: new PyRef(tag) } },
        1 << 20,
      );
      const ref = (codec.decode(frame.subarray(4)) as CallMessage).args['v'] as PyRef;
      expect(ref).toBeInstanceOf(PyRef);
      expect(ref).toMatchObject({
        id: 'r7',
        type: 'DataFrame',
        sessionId: 's1',
        workerId: 'default-2',
        pool: 'default',
      });
      expect(manager.liveCount('s1')).toBe(1);
      expect(manager.checkArgs('tool', { deep: [{ v: ref }] }, 's1', 'default')).toBe('default-2');
      expect(() => manager.checkArgs('tool', { v: ref }, 's2', 'default')).toThrow(
        /args\.v is reference r7 \(DataFrame\) of session "s1", but this call is in session "s2"/,
      );
      ref.release();
      ref.release();
      expect(sent).toEqual([['default', 'default-2', { type: 'release', refs: ['r7'], session: 's1' }]]);
      expect(manager.liveCount()).toBe(0);
      expect(() => manager.checkArgs('tool', { v: ref }, 's1', 'default')).toThrow(
        /can no longer be used: released/,
      );
    } finally {
      manager.close();
    }
  });

  it('leaves a malformed ref tag as the map it was', () => {
    const frame = codec.encodeFrame(
      {
        type: 'call',
        id: 1,
        tool: 't',
        args: { v: new PyRef({ __snakepit__: 'ref', id: 5 as unknown as string }) },
      },
      1 << 20,
    );
    const v = (codec.decode(frame.subarray(4)) as CallMessage).args['v'];
    expect(v).not.toBeInstanceOf(PyRef);
    expect(v).toMatchObject({ __snakepit__: 'ref', id: 5 });
  });
});

describe('config', () => {
  it('defaults affinity to strict_queue and sessions to a 1 h TTL', () => {
    const config = resolveConfig({ adapter: 'a.b:C', logger: false });
    expect(config.pools[0]!.affinity).toBe('strict_queue');
    expect(config.sessions).toEqual({ ttlMs: 3_600_000, cleanupIntervalMs: 60_000 });
  });

  it.each([
    ['strict_queue', 'strict_queue'],
    ['strict', 'strict_queue'],
    ['strict_fail_fast', 'strict_fail_fast'],
    ['hint', 'hint'],
    ['prefer', 'hint'],
  ] as const)("takes affinity %s as Snakepit's %s", (given, mode) => {
    expect(resolveConfig({ adapter: 'a.b:C', logger: false, affinity: given }).pools[0]!.affinity).toBe(mode);
  });

  it('defaults the start policy to "all" and start-up batches to 8', () => {
    const config = resolveConfig({ adapter: 'a.b:C', logger: false });
    expect(config.startPolicy).toBe('all');
    expect(config.pools[0]).toMatchObject({ startupBatchSize: 8, startupBatchDelayMs: 0 });
    expect(() => resolveConfig({ adapter: 'a.b:C', logger: false, startPolicy: 'some' as never })).toThrow(
      ConfigError,
    );
  });

  it.each([
    [{ affinity: 'sticky' }, 'pool.affinity'],
    [{ sessions: { ttlMs: 0 } }, 'sessions.ttlMs'],
    [{ sessions: { ttl: 5 } }, 'sessions.ttl'],
    [{ sessions: 5 }, 'sessions'],
  ])('rejects %j naming %s', (extra, key) => {
    const err = (() => {
      try {
        resolveConfig({ adapter: 'a.b:C', logger: false, ...(extra as object) });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe(key);
  });
});
