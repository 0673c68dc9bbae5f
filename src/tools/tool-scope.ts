/**
 * The scope of a running host tool, carried through its handler with AsyncLocalStorage so that a `pit.execute`
 * made anywhere inside it (after any number of awaits) is known to be *nested*: it belongs to the Python call
 * that called the host tool.
 *
 *   Python call P on worker W ──host_call──► handler (scope: parent P, deadline, signal, depth)
 *                                               └─ pit.execute(C) ── C.parent = P, timeout ≤ P's time left,
 *                                                                    aborted when P ends
 *
 * The pool lets C through to W even when W is at capacity (W's slot is held by P, which waits for C), and the
 * depth of such chains is bounded (`tools.maxDepth`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Call } from '../call/call.js';

export interface ToolScope {
  /** The Snakepit whose host tool runs: calls on another instance are not nested in it. */
  readonly runId: string;
  /** The Python call that called the host tool (absent when Python called from outside a call). */
  readonly parent: Call | undefined;
  /** Host-tool hops from the outermost call: 1 inside a host tool called by a top-level call. */
  readonly depth: number;
  /** `performance.now()` by which the outermost caller wants its answer, if it set a deadline. */
  readonly deadline: number | undefined;
  /** Aborted when the parent call ends (answered, timed out, aborted, its worker died) or the deadline passes. */
  readonly signal: AbortSignal;
}

const storage = new AsyncLocalStorage<ToolScope>();

/**
 * Nested calls (and a handler's own deadline timer) get this much past the chain's deadline, so the outermost
 * call's timeout always fires first and is what its caller sees (a `CallTimeoutError`, not a Python error wrapping
 * the inner timeout); the nested calls are aborted at that moment anyway, when their parent ends.
 */
export const DEADLINE_GRACE_MS = 25;

/** Run `fn` (a host tool's handler) inside `scope`. */
export function runInScope<T>(scope: ToolScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the host tool this code runs in, if it belongs to the Snakepit `runId`. */
export function currentScope(runId: string): ToolScope | undefined {
  const scope = storage.getStore();
  return scope?.runId === runId ? scope : undefined;
}

export interface NestedCallOptions {
  timeoutMs: number;
  signal: AbortSignal | undefined;
  parent: Call | undefined;
  depth: number;
}

/**
 * What a call submitted now inherits from the host tool it is made in: its timeout is at most what is left of the
 * chain's deadline (plus DEADLINE_GRACE_MS), and it is aborted when the parent call ends. Outside a host tool, the
 * options as given.
 */
export function nestedCallOptions(
  runId: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): NestedCallOptions {
  const scope = currentScope(runId);
  if (!scope) return { timeoutMs, signal, parent: undefined, depth: 0 };
  let budget = timeoutMs;
  if (scope.deadline !== undefined) {
    budget = Math.min(
      budget,
      Math.max(1, Math.floor(scope.deadline - performance.now())) + DEADLINE_GRACE_MS,
    );
  }
  return {
    timeoutMs: budget,
    signal: signal ? AbortSignal.any([signal, scope.signal]) : scope.signal,
    parent: scope.parent,
    depth: scope.depth,
  };
}

/**
 * Ids of the workers (in the call's pool) running an ancestor of `call`: each such worker's slot is held by a call
 * that waits for `call`, so `call` may run there even when the worker is at capacity. Undefined when none.
 */
export function ancestorWorkers(call: Call): ReadonlySet<string> | undefined {
  let found: Set<string> | undefined;
  for (let p = call.parent; p; p = p.parent) {
    if (p.phase === 'running' && !p.settled && p.runner && p.pool === call.pool) {
      (found ??= new Set()).add(p.runner.id);
    }
  }
  return found;
}
