// The `ref` tag in both codecs: a PyRef (src/refs/py-ref.ts) adopted by its RefManager, and back.
import { describe, expect, it } from 'vitest';
import { PyRef } from '../../src/refs/py-ref.js';
import { RefManager } from '../../src/refs/ref-manager.js';
import { jsonCodec } from '../../src/transport/codec-json.js';
import { msgpackCodec } from '../../src/transport/codec-msgpack.js';
import type { CallMessage, ReleaseMessage } from '../../src/protocol/messages.js';

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
