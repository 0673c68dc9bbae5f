/**
 * Session hand-off: when a worker is recycled on purpose, the sessions it served move to its replacement with
 * their Python state, so a recycle fails no call and loses no state that can travel.
 *
 *   recycler: replacement ready ─► old drains ─► old idle ─► handOff(old, next) ─► old stops
 *                                  │                          for each session bound to old:
 *                                  │                            export on old (__snakepit__.session_export)
 *                                  │                            import on next (__snakepit__.session_import)
 *                                  │                            bind the session to next; its references too
 *                                  └─ meanwhile the pool holds the session's calls (and calls on its references)
 *
 * What cannot move — a value or a referenced object that does not pickle, or does not unpickle on the new worker —
 * is reported once: a `session:handoff` event naming each piece, the references marked unusable, and, in the
 * strict affinity modes, a SessionLostError (with `lost`) for the session's next call. If the move itself fails
 * (the old worker died while exporting), the session is lost as in a crash.
 */
import { SESSION_TOOLS_PREFIX } from '../call/call-options.js';
import type { AffinityMode } from '../config/config-types.js';
import { type LostState, SessionLostError } from '../errors/errors.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { WorkerHandle } from '../worker/worker-handle.js';
import type { SessionRouter } from './picker.js';

/** The bridge tools that move a session. Only the pool calls them: `execute` refuses these names. */
export const EXPORT_TOOL = `${SESSION_TOOLS_PREFIX}export`;
export const IMPORT_TOOL = `${SESSION_TOOLS_PREFIX}import`;

/** What a hand-off needs of its pool. */
export interface HandoffHost {
  readonly name: string;
  readonly affinity: AffinityMode;
  readonly events: EventBus;
  readonly sessions: SessionRouter;
  /** Run a bridge tool on this worker now, even while it drains (not queued, not counted in stats). */
  internalCall(worker: WorkerHandle, tool: string, args: Record<string, unknown>): Promise<unknown>;
  /** References of the session that did not move: the host's handles say so from now on. */
  refsLost(session: string, lost: LostState[], why: string): void;
  /** The session's next call fails with `error` (strict modes), once. */
  report(session: string, error: SessionLostError): void;
}

interface Exported {
  state: Uint8Array | null;
  values: number;
  refs: number;
  lost: LostState[];
}

interface Imported {
  values: number;
  refs: number;
  lost: LostState[];
}

/** Move every session bound to `old` to `next`. Resolves when each has moved or been reported lost. */
export async function handOffSessions(
  host: HandoffHost,
  old: WorkerHandle,
  next: WorkerHandle,
): Promise<void> {
  const sessions = host.sessions.sessionsOn(host.name, old.id);
  await Promise.all(sessions.map((session) => moveOne(host, session, old, next)));
}

async function moveOne(
  host: HandoffHost,
  session: string,
  old: WorkerHandle,
  next: WorkerHandle,
): Promise<void> {
  let exported: Exported;
  let imported: Imported;
  try {
    exported = (await host.internalCall(old, EXPORT_TOOL, { session })) as Exported;
    imported = (await host.internalCall(next, IMPORT_TOOL, { session, state: exported.state })) as Imported;
  } catch (err) {
    return failed(host, session, old, err as Error);
  }
  host.sessions.bound(session, host.name, next.id);
  const lost = [...(exported.lost ?? []), ...(imported.lost ?? [])];
  let error: SessionLostError | undefined;
  if (lost.length > 0) {
    const why = `worker ${old.id} was recycled and this could not move to ${next.id}`;
    error = new SessionLostError(
      session,
      `session "${session}" moved from worker ${old.id} (recycled) to ${next.id}, except: ` +
        lost.map(describeLoss).join('; ') +
        ' — these are gone; the rest of its state moved',
      lost,
    );
    host.refsLost(session, lost, why);
    if (host.affinity !== 'hint') host.report(session, error);
  }
  host.events.emit('session:handoff', {
    session,
    pool: host.name,
    from: old.id,
    to: next.id,
    values: imported.values,
    refs: imported.refs,
    lost,
    error,
  });
}

/** The move failed (the old worker died, the new one refused): the session's state is lost, as in a crash. */
function failed(host: HandoffHost, session: string, old: WorkerHandle, err: Error): void {
  // strict_fail_fast: the session stays bound to the old worker, so every call fails until it is deleted; the
  // old worker's exit reports it.
  if (host.affinity === 'strict_fail_fast') return;
  host.sessions.unbind(session, host.name);
  const reported = host.affinity === 'strict_queue';
  if (reported) {
    host.report(
      session,
      new SessionLostError(
        session,
        `session "${session}" lost its Python state: worker ${old.id} was recycled and the state could not ` +
          `move to its replacement (${err.message}); the session's next calls start from an empty state`,
      ),
    );
  }
  host.events.emit('session:lost', { session, pool: host.name, worker: old.id, reported });
}

function describeLoss(loss: LostState): string {
  const what = loss.kind === 'ref' ? `reference ${loss.name}` : `ctx.store[${loss.name}]`;
  return `${what} (${loss.type}: ${loss.reason})`;
}
