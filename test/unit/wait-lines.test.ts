// WaitLines (src/pool/wait-lines.ts): calls parked on the one worker they must run on.
import { testCall } from './test-call.js';
import { describe, expect, it } from 'vitest';
import type { Call } from '../../src/call/call.js';
import { WaitLines } from '../../src/pool/wait-lines.js';

function call(): Call {
  return testCall();
}

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
    expect(lines.remove(a)).toBe(true);
    expect(lines.remove(a)).toBe(false);
    expect(lines.remove(call())).toBe(false);
    expect(lines.size).toBe(2);
    expect(lines.peek('w1')).toBe(b);
    expect(lines.shift('w1')).toBe(b);
    expect(lines.shift('w1')).toBeUndefined();
    expect(lines.take('w2')).toEqual([c]);
    expect(lines.size).toBe(0);
    expect(lines.workerIds()).toEqual([]);
  });

  it('stops counting a settled parked call nobody removed once it reaches the front of its line', () => {
    const lines = new WaitLines();
    const [a, b] = [call(), call()];
    lines.park('w1', a);
    lines.park('w1', b);
    a.fail(new Error('aborted while parked'));
    expect(lines.shift('w1')).toBe(b);
    expect(lines.size).toBe(0);
  });
});
