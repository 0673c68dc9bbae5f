/**
 * The Node.js worker runtime: one process serving the exports of a module as tools over the local channel
 * (PROTOCOL.md). Everything runs on Node's one thread: async tools and streams interleave, a sync tool holds the
 * thread until it returns (pings are answered after it, so a sync tool longer than the host's heartbeat timeout
 * gets the worker replaced, as a Python tool stuck in C code does).
 *
 * Cancellation: the call's AbortSignal fires; the worker waits up to CANCEL_SETTLE_MS for the tool to settle (so a
 * tool that honours the signal finishes its `finally` before the host's slot frees), then answers `cancelled`
 * whether or not it has. A promise cannot be stopped from outside: a tool that ignores the signal runs on in the
 * background and its late outcome is dropped.
 */
import type { Socket } from 'node:net';
import { FrameError, FrameReader, frame } from './frame-reader.js';
import { stopDescendants, watchHost } from './lifeline.js';
import { errorInfoOf, loadToolModule, type LoadedModule, type LoadedTool } from './tool-module.js';
import { HostToolError, type LogLevel, type ToolContext } from './tool-context.js';
import { encodeMessage, parseBody, reviveValue, WireValueError, type EncodeOptions } from './wire-values.js';

export const RUNTIME_VERSION = '0.1.0';
const PROTOCOL = 1;
const DEFAULT_MAX_FRAME = 64 * 1024 * 1024;
const CANCEL_SETTLE_MS = 1_000;
const HOST_CALL_GRACE_MS = 250;
const RESERVED_PREFIX = '__snakepit__.';

export interface NodeWorkerOptions {
  module: string;
  socket: Socket;
  workerId: string | undefined;
  runId: string | undefined;
}

interface OpenCall {
  id: number;
  tool: string;
  controller: AbortController;
  credit: number;
  creditWaiter: (() => void) | undefined;
  answered: boolean;
  graceful: EncodeOptions['graceful'];
}

type Message = Record<string, unknown>;

function isIterator(value: unknown): value is Iterator<unknown> | AsyncIterator<unknown> {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<symbol | string, unknown>;
  return typeof v['next'] === 'function' && (Symbol.asyncIterator in v || Symbol.iterator in v);
}

class CancelledError extends Error {
  constructor(readonly reason: string) {
    super(`call cancelled (${reason})`);
    this.name = 'AbortError';
  }
}

/** Resolve with the promise's outcome, or — once `signal` aborts — after at most `settleMs` with `aborted`. */
async function settleOrAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  settleMs: number,
): Promise<{ value: T } | { error: unknown } | { aborted: true }> {
  const outcome = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  let timer: NodeJS.Timeout | undefined;
  let arm: (() => void) | undefined;
  const onAbort = new Promise<{ aborted: true }>((resolve) => {
    arm = (): void => {
      timer = setTimeout(() => resolve({ aborted: true }), settleMs);
    };
    if (signal.aborted) arm();
    else signal.addEventListener('abort', arm, { once: true });
  });
  try {
    return await Promise.race([outcome, onAbort]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', arm!); // one per step of a stream: never let them pile up
  }
}

export class NodeWorker {
  readonly #socket: Socket;
  readonly #options: NodeWorkerOptions;
  readonly #reader = new FrameReader(DEFAULT_MAX_FRAME);
  #phase: 'hello' | 'loading' | 'ready' | 'stopping' = 'hello';
  #module: LoadedModule | undefined;
  #pending: Message[] = []; // frames that arrived before `ready`
  #attachmentsOf = new WeakMap<Message, Buffer[]>();
  readonly #calls = new Map<number, OpenCall>();
  readonly #sessions = new Map<string, Map<string, unknown>>();
  readonly #hostCalls = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; timer?: NodeJS.Timeout }
  >();
  readonly #gaveUp = new Set<number>();
  #nextHostCall = 1;
  #lastHeard = Date.now();
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #exiting = false;

  constructor(options: NodeWorkerOptions) {
    this.#options = options;
    this.#socket = options.socket;
  }

  start(): void {
    watchHost((why) => this.#leave(0, `snakepit node worker: ${why}; leaving`));
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('end', () => this.#leave(0, undefined));
    this.#socket.on('error', () => this.#leave(0, undefined));
    this.#write(
      Buffer.from(
        JSON.stringify({
          type: 'hello',
          protocol: PROTOCOL,
          bridge: RUNTIME_VERSION,
          pid: process.pid,
          runtime: 'node',
          runtime_version: process.versions.node,
          implementation: 'node',
          codecs: ['json'],
          worker: this.#options.workerId ?? '',
        }),
      ),
    );
  }

  // ── inbound ──────────────────────────────────────────────────────────────────────────────────────────────

  #onData(chunk: Buffer): void {
    this.#lastHeard = Date.now();
    let bodies: Buffer[];
    try {
      bodies = this.#reader.push(chunk);
    } catch (err) {
      return this.#protocolError((err as FrameError).message);
    }
    for (const body of bodies) {
      if (this.#exiting) return;
      let message: Message;
      try {
        const parsed = parseBody(body);
        message = parsed.message;
        if (parsed.attachments.length) this.#attachmentsOf.set(message, parsed.attachments);
      } catch (err) {
        return this.#protocolError(`undecodable frame: ${(err as Error).message}`);
      }
      if (typeof message['type'] !== 'string') return this.#protocolError('a frame without a "type"');
      if (this.#phase === 'hello') this.#onWelcome(message);
      else if (this.#phase === 'loading') this.#pending.push(message);
      else this.#onMessage(message);
    }
  }

  #onWelcome(message: Message): void {
    if (message['type'] !== 'welcome')
      return this.#protocolError(`expected "welcome", got "${String(message['type'])}"`);
    if (message['protocol'] !== PROTOCOL)
      return this.#protocolError(`host speaks protocol ${String(message['protocol'])}`);
    if (message['codec'] !== 'json')
      return this.#protocolError(`codec "${String(message['codec'])}" was not offered`);
    const max = message['max_frame_bytes'];
    if (typeof max === 'number' && Number.isInteger(max) && max > 0) this.#reader.maxFrameBytes = max;
    const heartbeat = message['heartbeat'] as { timeout_ms?: unknown } | undefined;
    this.#phase = 'loading';
    void this.#load(typeof heartbeat?.timeout_ms === 'number' ? heartbeat.timeout_ms : undefined);
  }

  async #load(heartbeatTimeoutMs: number | undefined): Promise<void> {
    let phase: 'import' | 'initialize' = 'import';
    try {
      this.#module = await loadToolModule(this.#options.module);
      phase = 'initialize';
      await this.#module.lifecycle.initialize?.();
    } catch (err) {
      this.#send({ type: 'fatal', phase, error: errorInfoOf(err, 'tool') });
      return this.#leave(
        3,
        `snakepit node worker: cannot ${phase} ${this.#options.module}: ${(err as Error)?.stack ?? String(err)}`,
      );
    }
    this.#send({
      type: 'ready',
      adapter: `node:${this.#options.module}`,
      tools: [...this.#module.tools.values()].map((t) => t.spec),
    });
    this.#phase = 'ready';
    this.#lastHeard = Date.now();
    if (heartbeatTimeoutMs !== undefined && heartbeatTimeoutMs > 0) this.#watchHeartbeat(heartbeatTimeoutMs);
    for (const message of this.#pending.splice(0)) this.#onMessage(message);
  }

  #onMessage(m: Message): void {
    switch (m['type']) {
      case 'call':
        return this.#onCall(m);
      case 'cancel': {
        const call = this.#calls.get(m['id'] as number);
        if (call && !call.controller.signal.aborted)
          call.controller.abort(new CancelledError(String(m['reason'])));
        return;
      }
      case 'credit': {
        const call = this.#calls.get(m['id'] as number);
        const n = m['n'];
        if (call && typeof n === 'number' && n > 0) {
          call.credit += n;
          call.creditWaiter?.();
        }
        return;
      }
      case 'ping':
        return this.#send({ type: 'pong', id: m['id'] });
      case 'pong':
      case 'release': // this runtime hands out no object references
      case 'withdraw': // every call starts as it arrives: none is ever queued to give back (PROTOCOL.md §5)
        return;
      case 'session_end': {
        const session = m['session'];
        if (typeof session !== 'string') return;
        this.#sessions.delete(session);
        try {
          void Promise.resolve(this.#module?.lifecycle.onSessionEnd?.(session)).catch(() => {});
        } catch {
          /* a failing hook must not end the worker */
        }
        return;
      }
      case 'host_result':
      case 'host_error':
        return this.#onHostAnswer(m);
      case 'shutdown':
        return void this.#shutdown(typeof m['grace_ms'] === 'number' ? m['grace_ms'] : 5_000);
      default:
        return this.#protocolError(`unknown message type "${String(m['type'])}"`);
    }
  }

  // ── calls ────────────────────────────────────────────────────────────────────────────────────────────────

  #onCall(m: Message): void {
    const id = m['id'];
    if (typeof id !== 'number' || !Number.isInteger(id))
      return this.#protocolError('a call without an integer id');
    if (this.#calls.has(id)) return this.#protocolError(`call id ${id} is already open`);
    const toolName = typeof m['tool'] === 'string' ? m['tool'] : '';
    const graceful = m['graceful'] as { repr?: unknown } | undefined;
    const call: OpenCall = {
      id,
      tool: toolName,
      controller: new AbortController(),
      credit: typeof m['window'] === 'number' ? m['window'] : Infinity,
      creditWaiter: undefined,
      answered: false,
      graceful: graceful && typeof graceful === 'object' ? { repr: graceful.repr === true } : undefined,
    };
    this.#calls.set(id, call);
    if (this.#phase === 'stopping')
      return this.#fail(call, 'cancelled', 'CallCancelled', 'the worker is stopping', { reason: 'shutdown' });
    let args: unknown = m['args'] ?? {};
    if (m['tagged'] === true) {
      try {
        args = reviveValue(args, 'args', this.#attachmentsOf.get(m) ?? []);
      } catch (err) {
        const e = err as WireValueError;
        return this.#fail(call, 'serialization', 'SerializationError', e.message, {
          path: e.path,
          python_type: e.valueType,
        });
      }
    }
    const tool = this.#module!.tools.get(toolName);
    if (!tool || toolName.startsWith(RESERVED_PREFIX)) {
      const available = [...this.#module!.tools.keys()];
      return this.#fail(call, 'unknown_tool', 'UnknownToolError', `unknown tool "${toolName}"`, {
        tool: toolName,
        available,
        ...(toolName.startsWith(RESERVED_PREFIX)
          ? { reason: 'object references are not served by the Node runtime' }
          : {}),
      });
    }
    if (args === null || typeof args !== 'object' || Array.isArray(args) || args instanceof Map) {
      return this.#fail(call, 'invalid_arguments', 'InvalidArgumentsError', 'args must be a map', {
        tool: toolName,
        signature: tool.spec['signature'],
        problem: 'args must be a map of names to values',
      });
    }
    const session = typeof m['session'] === 'string' ? m['session'] : undefined;
    const timeout = typeof m['timeout_ms'] === 'number' ? m['timeout_ms'] : undefined;
    const correlation =
      typeof m['correlation_id'] === 'string'
        ? m['correlation_id']
        : this.#options.runId
          ? `${this.#options.runId}-${id}`
          : undefined;
    const ctx = this.#context(
      call,
      session,
      timeout === undefined ? undefined : Date.now() + timeout,
      correlation,
    );
    void this.#run(call, tool, args as Record<string, unknown>, ctx, m['stream'] === true);
  }

  #context(
    call: OpenCall,
    session: string | undefined,
    deadline: number | undefined,
    correlationId: string | undefined,
  ): ToolContext {
    let store: Map<string, unknown>;
    if (session === undefined) store = new Map();
    else {
      store = this.#sessions.get(session) ?? new Map();
      this.#sessions.set(session, store);
    }
    return {
      signal: call.controller.signal,
      callId: call.id,
      session,
      store,
      deadline,
      correlationId,
      log: (level: LogLevel, message: string) =>
        this.#send({
          type: 'log',
          level,
          logger: `node.${call.tool}`,
          message: String(message),
          call: call.id,
          ...(correlationId ? { correlation_id: correlationId } : {}),
        }),
      emit: (name, measurements = {}, metadata = {}) =>
        this.#sendOrThrow(
          {
            type: 'event',
            name,
            measurements,
            metadata,
            ...(correlationId ? { correlation_id: correlationId } : {}),
          },
          { measurements: 'measurements', metadata: 'metadata' },
        ),
      callHost: (tool, args = {}) => this.#callHost(call, session, deadline, tool, args),
    };
  }

  async #run(
    call: OpenCall,
    tool: LoadedTool,
    args: Record<string, unknown>,
    ctx: ToolContext,
    stream: boolean,
  ): Promise<void> {
    const signal = call.controller.signal;
    let out: unknown;
    try {
      out = tool.fn(args, ctx);
    } catch (err) {
      return this.#failWith(call, err);
    }
    if (!stream && (tool.kind === 'generator' || tool.kind === 'async_generator' || isIterator(out))) {
      void (out as AsyncIterator<unknown>).return?.();
      return this.#fail(
        call,
        'invalid_arguments',
        'InvalidArgumentsError',
        `"${tool.name}" is a stream tool: use a stream call`,
        {
          tool: tool.name,
          signature: tool.spec['signature'],
          problem: 'a stream tool needs a stream call (executeStream)',
        },
      );
    }
    if (!isIterator(out)) {
      const settled = await settleOrAbort(Promise.resolve(out), signal, CANCEL_SETTLE_MS);
      if (signal.aborted) return this.#cancelled(call);
      if ('error' in settled) return this.#failWith(call, settled.error);
      const value = 'value' in settled ? settled.value : null;
      if (!stream) return this.#answer(call, { type: 'result', id: call.id, value }, 'result');
      if (isIterator(value)) return this.#pump(call, value);
      if (!this.#chunk(call, 0, value, true)) return;
      return this.#answer(call, { type: 'result', id: call.id, value: null }, 'result');
    }
    return this.#pump(call, out);
  }

  async #pump(call: OpenCall, iterator: Iterator<unknown> | AsyncIterator<unknown>): Promise<void> {
    const signal = call.controller.signal;
    let seq = 0;
    let returned: unknown = null;
    for (;;) {
      while (call.credit <= 0 && !signal.aborted) {
        let wake: (() => void) | undefined;
        await new Promise<void>((resolve) => {
          wake = () => resolve();
          call.creditWaiter = wake;
          signal.addEventListener('abort', wake, { once: true });
        });
        signal.removeEventListener('abort', wake!);
        call.creditWaiter = undefined;
      }
      if (signal.aborted) break;
      const step = await settleOrAbort(Promise.resolve(iterator.next()), signal, CANCEL_SETTLE_MS);
      if (signal.aborted) break;
      if ('error' in step) return this.#failWith(call, step.error);
      const result = (step as { value: IteratorResult<unknown> }).value;
      if (result.done) {
        returned = result.value ?? null;
        break;
      }
      if (!this.#chunk(call, seq++, result.value, false)) {
        void Promise.resolve(iterator.return?.()).catch(() => {});
        return;
      }
      call.credit--;
    }
    if (signal.aborted) {
      // Close the generator so its `finally` runs; wait a little for it, not for a tool that ignores the signal.
      await settleOrAbort(Promise.resolve(iterator.return?.()), signal, CANCEL_SETTLE_MS);
      return this.#cancelled(call);
    }
    this.#answer(call, { type: 'result', id: call.id, value: returned }, 'result');
  }

  /** Send one chunk; false (after answering the call with the error) when it cannot be sent. */
  #chunk(call: OpenCall, seq: number, data: unknown, final: boolean): boolean {
    const message: Message = { type: 'chunk', id: call.id, seq, data };
    if (final) message['final'] = true;
    const problem = this.#trySend(message, { data: 'chunk' }, call.graceful);
    if (problem) this.#answerProblem(call, problem);
    return problem === undefined;
  }

  #answer(call: OpenCall, message: Message, root: string): void {
    if (call.answered) return;
    const problem = this.#trySend(message, { value: root }, call.graceful);
    if (problem) return this.#answerProblem(call, problem);
    this.#close(call);
  }

  #answerProblem(call: OpenCall, problem: WireValueError | { size: number; limit: number }): void {
    if (problem instanceof WireValueError) {
      this.#fail(call, 'serialization', 'SerializationError', problem.message, {
        path: problem.path,
        python_type: problem.valueType,
      });
    } else {
      this.#fail(
        call,
        'payload_too_large',
        'PayloadTooLargeError',
        `an encoded frame of ${problem.size} bytes exceeds ${problem.limit}`,
        problem,
      );
    }
  }

  #cancelled(call: OpenCall): void {
    const reason = (call.controller.signal.reason as CancelledError | undefined)?.reason ?? 'abort';
    this.#fail(call, 'cancelled', 'CallCancelled', `call cancelled (${reason})`, { reason });
  }

  #failWith(call: OpenCall, err: unknown): void {
    if (call.controller.signal.aborted) return this.#cancelled(call);
    if (err instanceof WireValueError) return this.#answerProblem(call, err);
    if (call.answered) return;
    this.#send({ type: 'error', id: call.id, error: errorInfoOf(err) });
    this.#close(call);
  }

  #fail(call: OpenCall, kind: string, type: string, message: string, details: Record<string, unknown>): void {
    if (call.answered) return;
    this.#send({
      type: 'error',
      id: call.id,
      error: { kind, type, module: 'snakepit_node', mro: [type], message, traceback: '', details },
    });
    this.#close(call);
  }

  #close(call: OpenCall): void {
    call.answered = true;
    this.#calls.delete(call.id);
    if (this.#phase === 'stopping' && this.#calls.size === 0) this.#drained?.();
  }

  // ── host calls ───────────────────────────────────────────────────────────────────────────────────────────

  #callHost(
    call: OpenCall,
    session: string | undefined,
    deadline: number | undefined,
    tool: string,
    args: Record<string, unknown>,
  ): Promise<unknown> {
    const id = this.#nextHostCall++;
    const left = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
    const message: Message = { type: 'host_call', id, tool, args, parent: call.id };
    if (session !== undefined) message['session'] = session;
    if (left !== undefined) message['timeout_ms'] = left;
    return new Promise((resolve, reject) => {
      const problem = this.#trySend(message, { args: 'args' }, undefined);
      if (problem) {
        reject(
          problem instanceof WireValueError
            ? problem
            : new HostToolError(
                `host_call of ${problem.size} bytes is too large`,
                'PayloadTooLargeError',
                'payload_too_large',
              ),
        );
        return;
      }
      const entry: { resolve(v: unknown): void; reject(e: Error): void; timer?: NodeJS.Timeout } = {
        resolve,
        reject,
      };
      if (left !== undefined) {
        entry.timer = setTimeout(() => {
          this.#hostCalls.delete(id);
          this.#gaveUp.add(id);
          reject(
            new HostToolError(
              `host tool "${tool}" did not answer before the call's deadline`,
              'TimeoutError',
              'timeout',
            ),
          );
        }, left + HOST_CALL_GRACE_MS);
        entry.timer.unref();
      }
      this.#hostCalls.set(id, entry);
    });
  }

  #onHostAnswer(m: Message): void {
    const id = m['id'] as number;
    const entry = this.#hostCalls.get(id);
    if (!entry) {
      if (this.#gaveUp.delete(id)) return; // answered after its waiter gave up at the deadline
      return this.#protocolError(`${String(m['type'])} for host call id ${String(id)} that was never sent`);
    }
    this.#hostCalls.delete(id);
    clearTimeout(entry.timer);
    if (m['type'] === 'host_error') {
      const e = (m['error'] ?? {}) as { name?: unknown; message?: unknown; code?: unknown };
      return entry.reject(
        new HostToolError(
          String(e.message ?? 'host tool failed'),
          String(e.name ?? 'Error'),
          typeof e.code === 'string' ? e.code : undefined,
        ),
      );
    }
    try {
      entry.resolve(
        m['tagged'] === true
          ? reviveValue(m['value'], 'value', this.#attachmentsOf.get(m) ?? [])
          : m['value'],
      );
    } catch (err) {
      entry.reject(
        new HostToolError(
          `the host tool's result cannot be decoded: ${(err as Error).message}`,
          'SerializationError',
          'SNAKEPIT_SERIALIZATION',
        ),
      );
    }
  }

  // ── liveness and leaving ─────────────────────────────────────────────────────────────────────────────────

  #watchHeartbeat(timeoutMs: number): void {
    const check = (): void => {
      if (Date.now() - this.#lastHeard <= timeoutMs || this.#reader.partial) return;
      // A long sync tool may have held the thread while pings waited in the socket: let the poll phase read them
      // before judging the host silent.
      setImmediate(() =>
        setImmediate(() => {
          if (Date.now() - this.#lastHeard > timeoutMs && !this.#reader.partial) {
            this.#leave(
              5,
              `snakepit node worker: nothing from the host for ${timeoutMs} ms (heartbeat); leaving`,
            );
          }
        }),
      );
    };
    this.#heartbeatTimer = setInterval(check, Math.max(50, Math.min(1_000, timeoutMs / 4)));
    this.#heartbeatTimer.unref();
  }

  #drained: (() => void) | undefined;

  async #shutdown(graceMs: number): Promise<void> {
    if (this.#phase === 'stopping') return;
    this.#phase = 'stopping';
    if (this.#calls.size > 0) {
      const drained = new Promise<void>((resolve) => (this.#drained = resolve));
      for (const call of this.#calls.values()) call.controller.abort(new CancelledError('shutdown'));
      await Promise.race([drained, new Promise((r) => setTimeout(r, graceMs))]);
      for (const call of [...this.#calls.values()]) this.#cancelled(call);
    }
    try {
      await this.#module?.lifecycle.cleanup?.();
    } catch (err) {
      process.stderr.write(`snakepit node worker: cleanup failed: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    this.#send({ type: 'bye' });
    this.#leave(0, undefined);
  }

  /** Leave with `code`: cancel what runs, stop what this worker started, flush, exit. */
  #leave(code: number, why: string | undefined): void {
    if (this.#exiting) return;
    this.#exiting = true;
    if (why) process.stderr.write(`${why}\n`);
    clearInterval(this.#heartbeatTimer);
    for (const call of this.#calls.values()) call.controller.abort(new CancelledError('shutdown'));
    stopDescendants();
    const exit = (): never => process.exit(code);
    if (this.#socket.writable && code !== 4) this.#socket.end(exit);
    setTimeout(exit, 200).unref();
    if (code === 4) exit();
  }

  #protocolError(problem: string): void {
    process.stderr.write(`snakepit node worker: protocol error from the host: ${problem}\n`);
    this.#leave(4, undefined);
  }

  // ── plumbing ─────────────────────────────────────────────────────────────────────────────────────────────

  /** Encode and write; returns the problem instead of throwing when a value cannot be sent. */
  #trySend(
    message: Message,
    values: Record<string, string>,
    graceful: EncodeOptions['graceful'],
  ): WireValueError | { size: number; limit: number } | undefined {
    let body: Buffer;
    try {
      body = encodeMessage(message, values, { graceful });
    } catch (err) {
      if (err instanceof WireValueError) return err;
      return new WireValueError(Object.values(values)[0] ?? 'value', 'unknown', (err as Error).message);
    }
    if (body.length > this.#reader.maxFrameBytes)
      return { size: body.length, limit: this.#reader.maxFrameBytes };
    this.#write(body);
    return undefined;
  }

  #sendOrThrow(message: Message, values: Record<string, string>): void {
    const problem = this.#trySend(message, values, undefined);
    if (problem instanceof WireValueError) throw problem;
    if (problem)
      throw new RangeError(
        `${String(message['type'])} of ${problem.size} bytes exceeds the frame limit ${problem.limit}`,
      );
  }

  #send(message: Message): void {
    const problem = this.#trySend(message, {}, undefined);
    if (problem) process.stderr.write(`snakepit node worker: cannot send "${String(message['type'])}"\n`);
  }

  /**
   * Frames written in one turn of the event loop go out in one system call: a stream's chunks, many answers at
   * once. The flush runs in the same turn's check phase, so a lone answer waits no longer than the turn.
   */
  #write(body: Buffer): void {
    if (!this.#socket.writable) return;
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      setImmediate(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(frame(body));
  }
  #corked = false;
}
