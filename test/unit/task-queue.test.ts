// TaskQueue (src/pool/task-queue.ts): FIFO order, lazy deletion, and the count it keeps itself.
import { testCall } from './test-call.js';
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
