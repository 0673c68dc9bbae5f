/**
 * A running Snakepit's own checks (`pit.doctor()`): one per pool, from its stats — is it serving, degraded,
 * retrying — with what to do when it is not fine. The same report shape as `snakepit doctor`.
 */
import type { PoolStats } from '../pool/pool-stats.js';
import type { DoctorCheck, DoctorReport } from './doctor-types.js';

export function poolCheck(stats: PoolStats): DoctorCheck {
  const id = `pool:${stats.pool}`;
  const running = `${stats.workers} of ${stats.size} workers`;
  if (stats.state === 'closing' || stats.state === 'closed') {
    return { id, status: 'skip', message: `pool "${stats.pool}" is ${stats.state}` };
  }
  if (stats.state !== 'degraded') {
    return stats.workers >= stats.size || stats.size === 0
      ? { id, status: 'ok', message: `pool "${stats.pool}": ${running} running` }
      : {
          id,
          status: 'warn',
          message: `pool "${stats.pool}": ${running} running; replacing the others`,
          ...(stats.lastStartError ? { details: [stats.lastStartError] } : {}),
        };
  }
  const since =
    stats.degradedSince === undefined
      ? ''
      : ` for ${Math.round((Date.now() - stats.degradedSince) / 1000)} s`;
  const next =
    stats.nextRestartInMs === undefined
      ? 'a start is under way'
      : `next attempt in ${stats.nextRestartInMs} ms`;
  // Judged by ready workers: `workers` also counts one the back-off is starting right now, which may fail again.
  const ready = stats.available + stats.busy;
  return {
    id,
    status: ready === 0 ? 'fail' : 'warn',
    message:
      `pool "${stats.pool}" is degraded${since}: ${ready} of ${stats.size} workers ready, ${stats.restartFailures} ` +
      `failed start(s) in a row; ${next}` +
      (ready === 0 ? '; its calls fail at once with the start error' : ''),
    fix: `fix what makes its workers fail to start (below), then call pit.resume("${stats.pool}") (or wait for the next attempt)`,
    ...(stats.lastStartError ? { details: stats.lastStartError.split('\n').slice(-12) } : {}),
  };
}

export function poolsReport(stats: PoolStats[]): DoctorReport {
  const checks = stats.map(poolCheck);
  return { ok: !checks.some((c) => c.status === 'fail'), checks };
}
