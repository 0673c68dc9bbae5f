/**
 * The crash barrier's retry rule: a call that died with its worker runs again on another worker only when the
 * caller marked it `idempotent: true` — running it twice must be harmless, and only the caller knows — and only
 * `maxRetries` times, while its deadline lasts. Everything else fails with the WorkerCrashedError.
 *
 * Streams are never retried: some chunks may already have reached the consumer.
 */
import type { Call } from '../call/call.js';

export function mayRetry(call: Call, maxRetries: number): boolean {
  return (
    call.idempotent &&
    call.stream === undefined &&
    !call.settled &&
    call.cancelled === undefined &&
    call.retries < maxRetries &&
    call.remainingMs() > 0
  );
}
