/**
 * A viewer's picture of the pools: the last `snapshot` event with every `update` since merged in (the page's
 * app.js does the same in the browser). Used by `snakepit top`.
 */
import type { DashboardSnapshot, DashboardUpdate } from './dashboard-types.js';

/** Errors a viewer keeps (as many as the server sends in a snapshot). */
export const VIEWER_MAX_ERRORS = 50;

/** `snapshot` with `update` applied: the newest sample appended to each pool's history (older ones fall out). */
export function applyUpdate(snapshot: DashboardSnapshot, update: DashboardUpdate): DashboardSnapshot {
  const start = update.at - snapshot.historyMs;
  const histories = new Map(snapshot.pools.map((p) => [p.name, p.history]));
  const pools = update.pools.map(({ point, ...pool }) => ({
    ...pool,
    history: [...(histories.get(pool.name) ?? []).filter((p) => p.t > start), point],
  }));
  const seen = new Set(update.errors.map((e) => e.seq));
  const errors = [...update.errors, ...snapshot.errors.filter((e) => !seen.has(e.seq))].slice(
    0,
    VIEWER_MAX_ERRORS,
  );
  return { ...snapshot, at: update.at, host: update.host, pools, sessions: update.sessions, errors };
}
