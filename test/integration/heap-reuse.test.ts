// A worker reuses freed heap memory while it is busy and gives it back once idle (docs/DATA.md, "Numbers"):
// glibc's thresholds are raised for workers (src/worker/worker-spawn.ts, heapEnv) and the main loop trims the heap
// after IDLE_TRIM_S without a message (python/snakepit_bridge/dispatch/worker.py). Counted in page faults and
// resident pages, read by the worker itself, so the test does not depend on timing beyond "idle for a second".
import { describe, expect, it } from 'vitest';
import { start } from '../helpers.js';

const ADAPTER = 'snakepit_fixtures.lean:LeanAdapter';
const MIB = 64;
const PAGES = (MIB * 1024 * 1024) / 4096;

interface Churn {
  faults: number;
  rss_kb: number;
}

describe.skipIf(process.platform !== 'linux')('heap reuse in a worker (glibc)', () => {
  it.each([
    ['from the template', undefined],
    ['cold', false],
  ])(
    'faults a large allocation in once, reuses it on the next call, and trims once idle (%s)',
    async (_, template) => {
      const pit = await start({ adapter: ADAPTER, size: 1, ...(template === undefined ? {} : { template }) });
      try {
        const resting = await pit.execute<number>('rss_kb');
        const first = await pit.execute<Churn>('churn', { mib: MIB });
        const second = await pit.execute<Churn>('churn', { mib: MIB });
        // Fresh memory the first time (a fault per page), the same pages again the second.
        expect(first.faults).toBeGreaterThan(PAGES / 2);
        expect(second.faults).toBeLessThan(PAGES / 10);
        // Kept while busy: the freed block is still resident right after the call ...
        expect(second.rss_kb - resting).toBeGreaterThan((MIB * 1024) / 2);
        // ... and given back once the worker has been idle for a moment.
        // Each call restarts the idle clock, so look only every 1.5 s (the trim comes after 1 s without a message).
        let now = second.rss_kb;
        for (let look = 0; look < 6 && now - resting >= (MIB * 1024) / 4; look++) {
          await new Promise((r) => setTimeout(r, 1500));
          now = await pit.execute<number>('rss_kb');
        }
        expect(now - resting).toBeLessThan((MIB * 1024) / 4);
      } finally {
        await pit.close();
      }
    },
  );

  it('keeps glibc small thresholds under a memory limit: every large allocation is fresh memory', async () => {
    const pit = await start({ adapter: ADAPTER, size: 1, template: false, limits: { memoryMb: 1024 } });
    try {
      await pit.execute<Churn>('churn', { mib: MIB });
      const second = await pit.execute<Churn>('churn', { mib: MIB });
      expect(second.faults).toBeGreaterThan(PAGES / 2);
    } finally {
      await pit.close();
    }
  });
});
