/** What a Node tool receives as its second argument: the call's signal, session, deadline and ways to talk back. */

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';

export interface ToolContext {
  /** Aborted when the host cancels the call (timeout, abort, a stream consumer that stopped, shutdown). */
  readonly signal: AbortSignal;
  /** The call's id on the channel. */
  readonly callId: number;
  /** The session the call runs in, if any. */
  readonly session: string | undefined;
  /** Values kept for the session until it ends (a fresh map per call when there is no session). */
  readonly store: Map<string, unknown>;
  /** When the host gives up on the call, as a `Date.now()` value; undefined when it has no deadline. */
  readonly deadline: number | undefined;
  /** The call's correlation id (the caller's, else `<run id>-<call id>`). */
  readonly correlationId: string | undefined;
  /** Send a log record to the host, tagged with this call. */
  log(level: LogLevel, message: string): void;
  /** Emit a telemetry event to the host. */
  emit(name: string[], measurements?: Record<string, number>, metadata?: Record<string, unknown>): void;
  /** Call a host tool (`pit.tools`); rejects with a HostToolError (`name`, `code`) when it fails. */
  callHost(tool: string, args?: Record<string, unknown>): Promise<unknown>;
}

/** A host tool failed, or did not answer before the call's deadline (code `timeout`). */
export class HostToolError extends Error {
  constructor(
    message: string,
    readonly hostErrorName: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'HostToolError';
  }
}
