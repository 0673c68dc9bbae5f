// TaskQueue (src/pool/task-queue.ts): FIFO order, lazy deletion, and the count it keeps itself.
import { testCall } from './test-call.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Call } from '../../src/call/call.js';
import { TaskQueue } from '../../src/pool/task-queue.js';

function call(): Call {
  return testCall();
}

describe('TaskQueue', () => {
  it('is FIFO and skips calls settled while queued', () => {
    const q = new TaskQueue();
    const [a, b, c] = [call(), call(), call()];
    q.push(a);
    q.push(b);
    q.push(c);
    b.fail(new Error('gone'));
    expect(q.remove(b)).toBe(true);
    expect(q.size).toBe(2);
    expect(q.shift()).toBe(a);
    expect(q.shift()).toBe(c);
    expect(q.shift()).toBeUndefined();
    expect(q.size).toBe(0);
  });

  it('drains only live calls', () => {
    const q = new TaskQueue();
    const [a, b] = [call(), call()];
    q.push(a);
    q.push(b);
    a.fail(new Error('gone'));
    q.remove(a);
    expect(q.drain()).toEqual([b]);
    expect(q.size).toBe(0);
  });
});

describe('TaskQueue.unshift', () => {
  it('puts a retried call before the calls that arrived after it', () => {
    const q = new TaskQueue();
    const [a, b, c] = [call(), call(), call()];
    q.push(a);
    q.push(b);
    expect(q.shift()).toBe(a);
    q.push(c);
    q.unshift(a);
    expect(q.size).toBe(3);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([a, b, c]);
    q.unshift(b); // on an empty queue too
    expect(q.shift()).toBe(b);
  });
});

describe('TaskQueue keeps its own count', () => {
  // The count used to be a number every caller had to decrement once per settled call (`forget()`): a caller
  // that forgot left it too high for good (a full-looking queue refusing calls), one that did it twice or for
  // the wrong queue left it too low. Now the queue counts its members.
  it('stops counting a settled call nobody removed once it reaches the head', () => {
    const q = new TaskQueue();
    const [a, b] = [call(), call()];
    q.push(a);
    q.push(b);
    a.fail(new Error('timed out while queued')); // and nobody told the queue
    expect(q.shift()).toBe(b);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('ignores removing a call twice, or one it never held', () => {
    const q = new TaskQueue();
    const [a, b] = [call(), call()];
    q.push(a);
    q.push(b);
    a.fail(new Error('aborted'));
    expect(q.remove(a)).toBe(true);
    expect(q.remove(a)).toBe(false);
    expect(q.remove(call())).toBe(false);
    expect(q.size).toBe(1);
    expect(q.peek()).toBe(b);
  });

  it('counts a retried call put back at the front once', () => {
    const q = new TaskQueue();
    const a = call();
    q.push(a);
    expect(q.shift()).toBe(a);
    q.unshift(a);
    expect(q.size).toBe(1);
    a.fail(new Error('gone'));
    q.remove(a);
    expect(q.size).toBe(0);
    expect(q.drain()).toEqual([]);
  });
});

describe('TaskQueue against a model', () => {
  it('agrees with a plain list under any mix of push, unshift, shift, peek, settle, remove and drain', () => {
    type Op =
      { op: 'push' | 'unshift' | 'shift' | 'peek' | 'drain' } | { op: 'settle' | 'remove'; pick: number };
    const ops: fc.Arbitrary<Op> = fc.oneof(
      fc.constantFrom<Op>(
        { op: 'push' },
        { op: 'unshift' },
        { op: 'shift' },
        { op: 'peek' },
        { op: 'drain' },
      ),
      fc.record({ op: fc.constantFrom<'settle' | 'remove'>('settle', 'remove'), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(ops, { maxLength: 3000 }), (script) => {
        const q = new TaskQueue();
        let held: Call[] = []; // what the queue counts, in order (a settled call counts until it reaches the head)
        const made: Call[] = [];
        const dropSettledHead = (): void => {
          while (held[0]?.settled) held.shift();
        };
        for (const o of script) {
          if (o.op === 'push' || o.op === 'unshift') {
            const c = call();
            made.push(c);
            q[o.op](c);
            held[o.op](c);
          } else if (o.op === 'shift' || o.op === 'peek') {
            dropSettledHead();
            expect(q[o.op]()).toBe(o.op === 'shift' ? held.shift() : held[0]);
          } else if (o.op === 'drain') {
            expect(q.drain()).toEqual(held.filter((c) => !c.settled));
            held = [];
          } else if ((o.op === 'settle' || o.op === 'remove') && made.length > 0) {
            const c = made[o.pick % made.length]!;
            if (o.op === 'settle') {
              if (!c.settled) c.fail(new Error('gone'));
            } else {
              expect(q.remove(c)).toBe(held.includes(c));
              held = held.filter((h) => h !== c);
            }
          }
          expect(q.size).toBe(held.length);
        }
      }),
      { numRuns: 200 },
    );
  });
});
