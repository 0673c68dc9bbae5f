/**
 * The round trip both value property tests assert (the Python worker's and the Node runtime's): batches of
 * generated values echoed by the worker's `echo` tool come back exactly as the value table says, and the worker
 * that answered is the one that answered before (no value killed it).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { jsValue } from './arbitraries.js';

export const BATCH = 100;

export async function expectEchoedAsTheTableSays(pit: Snakepit, runs: number): Promise<void> {
  const pid = await pit.execute<number>('pid');
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(jsValue, { minLength: BATCH, maxLength: BATCH }), async (pairs) => {
      const back = await pit.execute('echo', { value: pairs.map((p) => p[0]) });
      expect(back).toEqual(pairs.map((p) => p[1]));
      checked += pairs.length;
    }),
    { numRuns: runs },
  );
  expect(checked).toBeGreaterThanOrEqual(runs * BATCH);
  expect(await pit.execute<number>('pid')).toBe(pid);
}
