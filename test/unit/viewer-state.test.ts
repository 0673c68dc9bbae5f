// applyUpdate (src/dashboard/viewer-state.ts): the viewer's merge of snapshots and updates.
import { describe, expect, it } from 'vitest';
import type { DashboardUpdate } from '../../src/dashboard/dashboard-types.js';
import { applyUpdate } from '../../src/dashboard/viewer-state.js';
import { point, errorEntry, snapshot } from './fake-dashboard.js';

describe('viewer state', () => {
  it('appends each update’s point, drops points older than the history, and puts new errors first', () => {
    const s = snapshot();
    const { history: _h, ...pool } = s.pools[0]!;
    const update: DashboardUpdate = {
      version: 1,
      at: 11_000,
      host: s.host,
      pools: [{ ...pool, point: point(11_000, { calls: 7 }) }],
      sessions: s.sessions,
      errors: [errorEntry(3)],
    };
    const next = applyUpdate(s, update);
    expect(next.pools[0]!.history.map((p) => p.t)).toEqual([9000, 10_000, 11_000]);
    expect(next.errors.map((e) => e.seq)).toEqual([3, 2, 1]);
    expect(next.at).toBe(11_000);
  });
});
