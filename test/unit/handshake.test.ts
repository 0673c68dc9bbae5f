// The handshake's pure parts (src/worker/handshake.ts).
import { describe, expect, it } from 'vitest';
import { sameAdapter } from '../../src/worker/handshake.js';

describe('sameAdapter', () => {
  it('treats module:Class and module.Class as one', () => {
    expect(sameAdapter('a.b:C', 'a.b:C')).toBe(true);
    expect(sameAdapter('a.b.C', 'a.b:C')).toBe(true);
    expect(sameAdapter('a.b:C', 'a.b:D')).toBe(false);
    expect(sameAdapter('a.b:C', undefined)).toBe(false);
  });
});
