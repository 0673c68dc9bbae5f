/**
 * The first frame a codec encodes, and the first it decodes, cost far more than the next ones in a fresh Node
 * process: V8 compiles msgpackr's packer and unpacker (and the codec's own code around them) on first use, ~1–2 ms
 * each on a quiet machine. A cold start pays that on its way to the first answer: decoding the worker's `ready`,
 * then encoding the first call, then decoding its result. Meanwhile, right after spawning an interpreter, the host
 * has nothing to do for tens of milliseconds while Python starts (on another core, if there is one). So the first
 * spawn of the process runs one small frame of each kind through both codecs then, and the first real frames find
 * the code compiled.
 *
 * Both codecs: msgpack is the default and what `codec: "auto"` picks when the worker has msgpack; JSON is the
 * fallback, and a pool may name it. The frames are plain (no large values, no shared memory): the codecs keep no
 * state between frames, so nothing of the warm-up is seen by a later one.
 */
import type { HostMessage } from '../protocol/messages.js';
import { jsonCodec } from './codec-json.js';
import { msgpackCodec } from './codec-msgpack.js';
import type { Codec } from './codec.js';
import { FRAME_HEADER_BYTES } from './frame-decoder.js';

let warmed = false;

/** Warm both codecs once per process, on the event loop's next turn (after the caller's synchronous work). */
export function warmUpCodecsSoon(): void {
  if (warmed) return;
  warmed = true;
  setImmediate(warmUpCodecs).unref();
}

/** One call out, one `ready` and one result in, through each codec. Never throws: a failure here costs nothing. */
export function warmUpCodecs(): void {
  for (const codec of [msgpackCodec, jsonCodec]) {
    try {
      roundTrip(codec, {
        type: 'call',
        id: 0,
        tool: 'warm_up',
        args: { a: 1, b: 'text', c: [1.5, true, null], d: { e: 2 } },
      } as HostMessage);
      roundTrip(codec, {
        type: 'ready',
        adapter: 'warm_up:WarmUp',
        tools: [
          { name: 'warm_up', input_schema: { type: 'object', properties: { a: { type: 'integer' } } } },
        ],
      } as unknown as HostMessage);
      roundTrip(codec, { type: 'result', id: 0, value: 2 } as unknown as HostMessage);
    } catch {
      // a codec that cannot even warm up will say why on the real frames
    }
  }
}

function roundTrip(codec: Codec, message: HostMessage): void {
  codec.decode(codec.encodeFrame(message, 1 << 20).subarray(FRAME_HEADER_BYTES));
}
