// Server-Sent Events both ways (src/dashboard/sse.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatEvent, type SseEvent, SseParser } from '../../src/dashboard/sse.js';

describe('Server-Sent Events', () => {
  it('what formatEvent writes, SseParser reads back, however the bytes are split', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            event: fc.constantFrom('snapshot', 'update', 'message'),
            data: fc.string({ unit: 'grapheme', maxLength: 200 }),
            id: fc.option(fc.nat(), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.array(fc.nat({ max: 50 }), { maxLength: 20 }),
        (events, cuts) => {
          const text = events.map((e) => formatEvent(e.event, e.data, e.id)).join('');
          const got: SseEvent[] = [];
          const parser = new SseParser((e) => got.push(e));
          let at = 0;
          for (const cut of cuts) {
            parser.push(text.slice(at, at + cut));
            at += cut;
          }
          parser.push(text.slice(at));
          // Line breaks inside data come back as \n (SSE's own rule); an event's id carries on to the next.
          let lastId: string | undefined;
          const expected = events.map((e) => {
            if (e.id !== undefined) lastId = String(e.id);
            return { event: e.event, data: e.data.replace(/\r\n|\r/g, '\n'), id: lastId };
          });
          expect(got).toEqual(expected);
        },
      ),
    );
  });

  it('ignores comments and unknown fields; refuses an event larger than its limit', () => {
    const got: SseEvent[] = [];
    const parser = new SseParser((e) => got.push(e), 100);
    parser.push(': hello\nretry: 2000\nfoo: bar\n\ndata:x\n\n');
    expect(got).toEqual([{ event: 'message', data: 'x', id: undefined }]);
    expect(() => parser.push(`data: ${'y'.repeat(200)}`)).toThrow(/more than 100 characters/);
  });
});
