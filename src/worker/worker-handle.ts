/**
 * WorkerHandle: one Python worker process as the pool sees it — spawn, handshake, calls in flight, stop.
 *
 * Invariants:
 * - `#inFlight` (in-flight.ts) holds every call whose `call` frame was written and whose terminal frame has not
 *   arrived, including calls the caller already gave up on (their cancel is pending). Its size is the worker's load.
 * - A worker that dies fails every call in `#inFlight` that had begun with WorkerCrashedError, once, in `#finalize`;
 *   the calls it had not begun (its ledger says which) go back to the pool, to run elsewhere (`#salvage`).
 *
 * The parts that do not need the handle's state live beside it: the local process's command line and environment
 * (worker-spawn.ts), the handshake's checks (handshake.ts), Python log records (python-log.ts), and how an end
 * is told (worker-exit.ts).
 */
import { randomUUID } from 'node:crypto';
import type { ResolvedPoolConfig } from '../config/config-types.js';
import { SerializationError, type WorkerCrashedError, WorkerStartError } from '../errors/errors.js';
import { errorFromWire } from '../errors/from-wire.js';
import type {
  CallMessage,
  CodecName,
  ErrorInfo,
  EventMessage,
  HelloMessage,
  HostCallMessage,
  HostMessage,
  LibraryInfo,
  ReadyMessage,
  ReleaseMessage,
  SessionEndMessage,
  ToolSpec,
  WorkerMessage,
} from '../protocol/messages.js';
import { toolSpecFromWire } from '../protocol/messages.js';
import type { Call, CancelReason } from '../call/call.js';
import { DEFAULTS } from '../config/defaults.js';
import { FrameChannel, type ChannelClose } from '../transport/channel.js';
import type { UndecodableValue } from '../transport/codec.js';
import { jsonCodec } from '../transport/codec-json.js';
import { msgpackCodec } from '../transport/codec-msgpack.js';
import { ShmLink, emptyTransferStats, type TransferStats } from '../shm/shm-link.js';
import { segmentPrefix } from '../shm/segment-names.js';
import type { Logger } from '../util/logger.js';
import { trace } from '../util/trace.js';
import type { HostKillKind } from '../errors/exit-kind.js';
import { classifyExit, oomKillCount } from './classify-exit.js';
import { answerHello, remoteAdapterProblem } from './handshake.js';
import { Heartbeat } from './heartbeat.js';
import { InFlightCalls } from './in-flight.js';
import type { EarlyWorker } from './early-worker.js';
import { Ledger } from './ledger.js';
import { forwardPythonLog } from './python-log.js';
import { StartGate } from './start-gate.js';
import {
  crashedError,
  describeExit,
  remoteSilence,
  startupExitMessage,
  type WorkerExit,
} from './worker-exit.js';
import type { ExitInfo, LinkFactory, WorkerLink } from './worker-link.js';
import { spawnLocalWorker, type LocalWorkerSpec } from './worker-spawn.js';
import { startFailureFix } from './start-fix.js';
import { WorkerLifecycle, type WorkerState } from './worker-state.js';

export { describeExit, type WorkerExit };

/** After the channel closes, how long to wait for the process's exit status before killing it. */
const EXIT_AFTER_EOF_MS = 500;

export interface WorkerHooks {
  logger: Logger;
  /** A call left the worker (terminal frame or crash): the pool may dispatch more. */
  onSlotFree(worker: WorkerHandle): void;
  /** The worker has exited, after its in-flight calls were failed. */
  onExit(worker: WorkerHandle, exit: WorkerExit): void;
  /**
   * A worker that was serving is dying (its channel closed or its process ended, not stopped by the host): what
   * the restart policy needs is known already, before its exit status (which may take a moment to arrive), so a
   * replacement may start now. `onExit` follows.
   */
  onDying?(worker: WorkerHandle, facts: { callsInFlight: number; uptimeMs: number }): void;
  /** Python called a host tool; answer with `worker.replyHostCall`. */
  onHostCall(worker: WorkerHandle, message: HostCallMessage): void;
  /** Python emitted a telemetry event. */
  onEvent(worker: WorkerHandle, message: EventMessage): void;
  /** A call's terminal frame arrived (for stats): ok, or the error it carried. */
  onCallDone(worker: WorkerHandle, call: Call, error: Error | undefined): void;
  /**
   * The worker died with `call` in flight. Return true to take the call back (it will run elsewhere: the crash
   * barrier's idempotent retry); false fails it with `error`.
   */
  onCallCrashed?(worker: WorkerHandle, call: Call, error: WorkerCrashedError): boolean;
  /**
   * Calls the worker gave back before they began — withdrawn (`withdraw`), or still unstarted when it died — in
   * dispatch order. The pool runs them elsewhere; calls it does not take (the pool is closing) it fails itself.
   */
  onCallsReturned?(worker: WorkerHandle, calls: Call[], why: 'withdrawn' | 'not_begun'): void;
  /** A heartbeat ping went unanswered for an interval (`fatal`: the silence reached the timeout). */
  onHeartbeatMissed?(worker: WorkerHandle, silentMs: number, missed: number, fatal: boolean): void;
}

export interface WorkerOptions {
  id: string;
  config: ResolvedPoolConfig;
  runId: string;
  hooks: WorkerHooks;
  /** How to reach the worker when it is not a spawned local process (remote, Snakepit style). */
  link?: LinkFactory;
  /** Remote workers: the endpoint (`host:port`) it runs at. */
  endpoint?: string;
  /** How a local worker is started: spawned (the default), or forked from the pool's template (template.ts). */
  spawnLocal?: (spec: LocalWorkerSpec) => WorkerLink;
  /** The pool's counters of how large values travelled (shared memory or inline). */
  transfer?: TransferStats;
  /** A process spawned for this worker before its handle existed (early-worker.ts): taken over by `start`. */
  early?: EarlyWorker;
}

export class WorkerHandle {
  readonly id: string;
  readonly pool: string;
  readonly #config: ResolvedPoolConfig;
  readonly #runId: string;
  readonly #hooks: WorkerHooks;
  readonly #lifecycle: WorkerLifecycle;
  readonly #inFlight = new InFlightCalls();
  readonly #link: LinkFactory | undefined;
  readonly #spawnLocal: (spec: LocalWorkerSpec) => WorkerLink;
  #early: EarlyWorker | undefined;
  /** A local worker's ledger (which calls began, what it had not sent), read once it has died. */
  #ledger: Ledger | undefined;
  /** Remote workers: `host:port`. */
  readonly endpoint: string | undefined;
  #process: WorkerLink | undefined;
  #channel: FrameChannel | undefined;
  #start: StartGate | undefined;
  #finalizing = false;
  #deathReason: string | undefined;
  #refd = true;
  #heartbeat: Heartbeat | undefined;
  /** A local worker's shared memory (after `welcome`, when both sides can use it). */
  #shm: ShmLink | undefined;
  readonly #transfer: TransferStats;
  /** Set when the host killed the worker, with why (classification). */
  #hostKill: HostKillKind | undefined;
  #oomKillsAtSpawn: number | undefined;

  hello: HelloMessage | undefined;
  tools: ToolSpec[] = [];
  libraries: LibraryInfo[] = [];
  /** Calls answered by this worker (results and errors). */
  served = 0;
  readonly spawnedAt = Date.now();
  readyAt: number | undefined;
  lastError: string | undefined;
  /**
   * Set by the pool when the worker has held calls for a while without answering any (pool/stall-watch.ts): no
   * call is pipelined behind the one it is running. Cleared by its next answer.
   */
  stalled = false;

  constructor(options: WorkerOptions) {
    this.id = options.id;
    this.pool = options.config.name;
    this.#config = options.config;
    this.#runId = options.runId;
    this.#hooks = options.hooks;
    this.#link = options.link;
    this.#spawnLocal = options.spawnLocal ?? spawnLocalWorker;
    this.#early = options.early;
    this.endpoint = options.endpoint;
    this.#transfer = options.transfer ?? emptyTransferStats();
    this.#lifecycle = new WorkerLifecycle(this.id, () => this.#updateRef());
  }

  /** Whether large values to and from this worker travel in shared memory (else inline in frames). */
  get sharedMemory(): boolean {
    return this.#shm !== undefined;
  }

  get state(): WorkerState {
    return this.#lifecycle.state;
  }
  /** Ready, or starting and not failed yet: counted as one of the pool's workers. */
  get willServe(): boolean {
    const state = this.#lifecycle.state;
    return state === 'ready' || (state === 'starting' && !this.#start?.failed);
  }
  get load(): number {
    return this.#inFlight.size;
  }
  /** Calls in flight nothing may be pipelined behind (streams, cancelled calls, tools not measured as fast). */
  get pipelineBlockers(): number {
    return this.#inFlight.blockers;
  }
  get pid(): number | undefined {
    return this.#process?.pid;
  }
  get codec(): CodecName | undefined {
    return this.#channel && this.state !== 'starting' ? this.#channel.codec.name : undefined;
  }
  /** The calls this worker holds (running, queued inside Python, or cancelled and awaiting their end). */
  inFlight(): IterableIterator<Call> {
    return this.#inFlight.values();
  }

  /**
   * Spawn the process and run the handshake.
   * @returns a promise that resolves when the worker is ready
   * @throws WorkerStartError with the Python traceback (adapter import failure), exit status or timeout
   */
  start(): Promise<void> {
    if (this.#start) return this.#start.promise;
    const start = (this.#start = new StartGate());
    const config = this.#config;
    const onLine = (stream: 'stdout' | 'stderr', line: string): void => {
      const fields = { pool: this.pool, worker: this.id, stream };
      if (stream === 'stderr') this.#hooks.logger.warn(fields, line);
      else this.#hooks.logger.info(fields, line);
    };
    const early = this.#early?.take(onLine); // spawned already, with its ledger (early-worker.ts)
    this.#early = undefined;
    const remote = early ? undefined : this.#link?.({ workerId: this.id, onLine });
    if (early) this.#ledger = early.ledger;
    else if (!remote && !config.command) this.#ledger = Ledger.create(); // the ledger is the Python bridge's
    const proc: WorkerLink =
      early?.process ??
      remote ??
      this.#spawnLocal({ config, workerId: this.id, runId: this.#runId, onLine, ledgerFd: this.#ledger?.fd });
    this.#process = proc;
    if (!this.#link) this.#oomKillsAtSpawn = oomKillCount();
    this.#channel = new FrameChannel(proc.channel, config.maxFrameBytes, {
      onMessage: (message) => {
        this.#heartbeat?.heard();
        this.#onMessage(message);
      },
      onClose: (close) => this.#onChannelClose(close),
      onUndecodable: (bad) => {
        this.#heartbeat?.heard();
        return this.#onUndecodable(bad);
      },
    });
    void proc.exited.then(() => this.#beginDeath());
    start.setDeadline(config.startupTimeoutMs, () => {
      this.#failStart(
        `worker ${this.id} did not become ready within ${config.startupTimeoutMs} ms ` +
          `(a slow adapter import? raise startupTimeoutMs)`,
      );
    });
    trace(
      'worker',
      `${this.id} opened ${proc.label}: ${this.endpoint ?? config.command?.join(' ') ?? `${config.python.executable} -c <snakepit_bridge main> --adapter ${config.adapter}`}`,
    );
    return start.promise;
  }

  /**
   * Write the call's frame and take a slot. Encoding errors are thrown before anything is written or taken.
   * `pipelinable`: calls may be pipelined behind this one (its tool is measured as fast, it is not a stream).
   * `draining`: the worker may be draining (the pool's own calls that move sessions off a recycled worker).
   */
  dispatch(call: Call, pipelinable: boolean, draining = false): void {
    const channel = this.#channel;
    if (!channel || (this.state !== 'ready' && !(draining && this.state === 'draining'))) {
      throw new Error(`worker ${this.id} is ${this.state}, not ready`);
    }
    const message: CallMessage = {
      type: 'call',
      id: call.id,
      tool: call.tool,
      args: call.args,
      timeout_ms: call.remainingMs(),
    };
    if (call.sessionId !== undefined) message.session = call.sessionId;
    if (call.trace !== undefined) message.trace = call.trace;
    if (call.correlationId !== undefined) message.correlation_id = call.correlationId;
    if (call.graceful !== undefined) message.graceful = call.graceful;
    if (call.stream) {
      message.stream = true;
      message.window = call.stream.window;
    }
    const slot = this.#ledger?.take();
    if (slot !== undefined) message.slot = slot;
    try {
      channel.send(message);
    } catch (err) {
      if (slot !== undefined) this.#ledger!.give(slot);
      throw err;
    }
    call.slot = slot;
    this.#inFlight.add(call, !pipelinable);
    call.markRunning(this);
    this.#updateRef();
  }

  /** Ask Python to stop a call; if it does not answer within DEFAULTS.cancelGraceMs the worker is stopped. */
  cancel(call: Call, reason: CancelReason): void {
    if (!this.#inFlight.has(call.id) || call.cancelled) return;
    call.cancelled = reason;
    this.#inFlight.block(call);
    this.#send({ type: 'cancel', id: call.id, reason });
    this.#inFlight.armCancelDeadline(call.id, DEFAULTS.cancelGraceMs, () =>
      this.kill(
        `call ${call.id} ("${call.tool}") ignored its cancel (${reason}) for ${DEFAULTS.cancelGraceMs} ms: the worker is ` +
          'killed, not the call cancelled',
        'timeout_kill',
      ),
    );
  }

  /**
   * Ask for these calls back unless they have begun (the worker is stuck in a long one): those it gives back
   * arrive in a `withdrawn` frame and go to `onCallsReturned`; the others are answered as usual.
   */
  withdraw(calls: Iterable<Call>): void {
    const ids: number[] = [];
    for (const call of calls) {
      if (call.withdrawing || call.cancelled || !this.#inFlight.has(call.id)) continue;
      call.withdrawing = true; // asked once per dispatch
      ids.push(call.id);
    }
    if (ids.length > 0) this.#send({ type: 'withdraw', ids });
  }

  /** Give a stream call `n` more chunks of credit. */
  credit(call: Call, n: number): void {
    if (this.#inFlight.has(call.id)) this.#send({ type: 'credit', id: call.id, n });
  }

  /** Send a fire-and-forget control message (`release`, `session_end`); dropped unless the worker is ready. */
  notify(message: ReleaseMessage | SessionEndMessage): void {
    if (this.state === 'ready') this.#send(message);
  }

  /**
   * Answer a `host_call` from Python. A value that cannot be encoded is answered with a `host_error` naming why,
   * so the Python caller never waits for an answer that was never sent.
   */
  replyHostCall(
    id: number,
    outcome: { value: unknown } | { error: { name: string; message: string; code?: string } },
  ): void {
    if ('error' in outcome) return this.#send({ type: 'host_error', id, error: outcome.error });
    try {
      this.#channel?.send({ type: 'host_result', id, value: outcome.value });
    } catch (err) {
      const e = err as Error & { code?: unknown };
      this.#send({
        type: 'host_error',
        id,
        error: {
          name: e.name,
          message: `the host tool's result cannot be sent: ${e.message}`,
          ...(typeof e.code === 'string' ? { code: e.code } : {}),
        },
      });
    }
  }

  /**
   * Stop gracefully: `shutdown` frame (Python runs `cleanup()` and exits), SIGTERM after the grace period, then
   * SIGKILL. Calls still in flight fail with WorkerCrashedError; the pool drains them first.
   */
  async stop(graceMs = this.#config.killGraceMs): Promise<void> {
    const proc = this.#process;
    if (!proc || this.#lifecycle.isFinal) return;
    if (this.state === 'starting') this.#failStart(`worker ${this.id} was stopped before it was ready`);
    this.#lifecycle.transition('stopping');
    this.#heartbeat?.stop();
    await proc.stop(graceMs, () => this.#send({ type: 'shutdown', grace_ms: graceMs }));
    await this.#finalized();
  }

  /** Recycling: take no new calls, finish the ones held. False when the worker is not `ready`. */
  drain(): boolean {
    return this.#lifecycle.transition('draining');
  }

  /**
   * Stop now (SIGKILL to the process group): the worker is tainted (no new calls) and its in-flight calls fail
   * with WorkerCrashedError naming `reason`, classified as `kind`.
   */
  kill(reason: string, kind: HostKillKind): void {
    if (!this.#process || this.#lifecycle.isFinal) return;
    this.#hostKill ??= kind;
    this.#taint();
    this.#deathReason ??= reason;
    this.lastError = reason;
    this.#hooks.logger.warn({ pool: this.pool, worker: this.id }, `stopping worker: ${reason}`);
    this.#process.signal('SIGKILL');
    this.#channel?.close();
  }

  // ── inbound ──────────────────────────────────────────────────────────────────────────────────────────────

  #onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'result':
        return this.#onTerminal(message.id, undefined, message.value);
      case 'error':
        return this.#onTerminal(message.id, message.error, undefined);
      case 'chunk': {
        const call = this.#inFlight.get(message.id);
        if (!call?.stream)
          return this.#breakChannel(
            `chunk for ${call ? 'a non-stream' : 'an unknown'} call id ${message.id}`,
          );
        call.stream.push(message.data);
        return;
      }
      case 'log':
        return forwardPythonLog(this.#hooks.logger, this.pool, this.id, message);
      case 'event':
        return this.#hooks.onEvent(this, message);
      case 'host_call':
        return this.#hooks.onHostCall(this, message);
      case 'ping':
        return this.#send({ type: 'pong', id: message.id });
      case 'withdrawn':
        return this.#onWithdrawn(message.ids);
      case 'pong':
      case 'bye':
        return;
      case 'hello':
        return this.#onHello(message);
      case 'ready':
        return this.#onReady(message);
      case 'fatal': {
        if (this.state !== 'starting') return this.#breakChannel('unexpected "fatal"');
        const e = message.error;
        this.#failStart(
          `worker ${this.id} failed to ${message.phase === 'initialize' ? 'initialize' : 'import'} adapter ` +
            `"${this.#config.adapter}": ${e.type}: ${e.message}`,
          {
            pythonType: e.type,
            traceback: e.traceback,
            phase: message.phase,
            fix: startFailureFix({
              adapter: this.#config.adapter,
              phase: message.phase,
              pythonType: String(e.type),
              message: String(e.message),
              python: this.#config.python.executable,
            }),
          },
        );
        return;
      }
    }
  }

  #onHello(hello: HelloMessage): void {
    if (this.state !== 'starting' || this.hello) return this.#breakChannel('unexpected "hello"');
    this.hello = hello;
    const answer = answerHello(hello, this.#config, this.id);
    if ('problem' in answer) return this.#failStart(answer.problem);
    const { sharedMemory } = this.#config;
    // Shared memory needs the same machine (a local process), msgpack and a bridge that says it can map segments.
    if (sharedMemory.enabled && !this.#link && answer.codec === 'msgpack' && hello.shm === true) {
      const prefix = segmentPrefix(this.#runId, this.id);
      this.#shm = new ShmLink(prefix, sharedMemory.minBytes, this.#transfer);
      answer.welcome.shm = { prefix, min_bytes: sharedMemory.minBytes };
    }
    this.#send(answer.welcome);
    this.#channel!.useCodec(answer.codec === 'msgpack' ? msgpackCodec : jsonCodec);
    this.#channel!.useLargeValues({
      link: this.#shm,
      minBytes: sharedMemory.minBytes,
      stats: this.#transfer,
    });
  }

  #onReady(message: ReadyMessage): void {
    if (this.state !== 'starting' || !this.hello) return this.#breakChannel('unexpected "ready"');
    const wrongAdapter = remoteAdapterProblem(this.endpoint, this.#config, message.adapter);
    if (wrongAdapter) return this.#failStart(wrongAdapter);
    this.tools = Array.isArray(message.tools) ? message.tools.flatMap(toolSpecFromWire) : [];
    this.libraries = Array.isArray(message.libraries) ? message.libraries : [];
    this.readyAt = Date.now();
    this.#start?.clearDeadline();
    this.#lifecycle.transition('ready');
    this.#startHeartbeat();
    this.#start?.resolve();
  }

  /**
   * A frame of a known call whose values cannot be decoded (a hostile or broken worker): that call fails with
   * SerializationError, the channel and the worker's other calls go on. Anything else breaks the channel.
   */
  #onUndecodable(bad: UndecodableValue): boolean {
    const failure = new SerializationError(
      bad.type === 'chunk' ? 'chunk' : 'result',
      'undecodable',
      `the worker sent a ${bad.type} for "${this.#inFlight.get(bad.id)?.tool ?? '?'}" that cannot be decoded: ${bad.reason}`,
    );
    switch (bad.type) {
      case 'result':
      case 'error':
        if (!this.#inFlight.has(bad.id)) return false;
        this.#onTerminal(bad.id, undefined, undefined, failure);
        return true;
      case 'chunk': {
        const call = this.#inFlight.get(bad.id);
        if (!call?.stream) return false;
        if (!call.settled) call.fail(failure);
        this.cancel(call, 'consumer_stopped'); // its terminal frame still frees the slot
        return true;
      }
      case 'host_call':
        this.replyHostCall(bad.id, {
          error: { name: 'SerializationError', message: failure.message, code: SerializationError.code },
        });
        return true;
      default:
        return false;
    }
  }

  #onTerminal(id: number, error: ErrorInfo | undefined, value: unknown, undecodable?: Error): void {
    const call = this.#inFlight.settle(id);
    if (!call) return this.#breakChannel(`answer for unknown call id ${id}`);
    this.#shm?.release(id); // the worker is done with the call's argument segments
    if (!call.internal) this.served++;
    this.stalled = false;
    if (call.slot !== undefined) this.#freeSlot(call);
    let failure: Error | undefined = undecodable;
    if (failure) {
      if (!call.settled) call.fail(failure);
    } else if (error) {
      failure = errorFromWire(error, call.tool, this.id);
      if (!call.settled) call.fail(failure);
    } else if (!call.settled) {
      call.succeed(value);
    }
    this.#updateRef();
    this.#hooks.onCallDone(this, call, failure);
    this.#hooks.onSlotFree(this);
  }

  // ── calls given back: withdrawn, or never begun by a worker that died ──────────────────────────────────────

  #onWithdrawn(ids: unknown): void {
    if (!Array.isArray(ids)) return this.#breakChannel('"withdrawn" without a list of ids');
    const calls: Call[] = [];
    for (const id of ids) {
      const call = typeof id === 'number' ? this.#inFlight.settle(id) : undefined;
      if (!call) return this.#breakChannel(`"withdrawn" names call id ${String(id)}, which is not in flight`);
      this.#shm?.release(call.id);
      if (call.slot !== undefined) this.#freeSlot(call);
      calls.push(call);
    }
    this.#giveBack(calls, 'withdrawn');
    this.#updateRef();
    this.#hooks.onSlotFree(this);
  }

  /** Calls that never ran here: to the pool, unless their caller already gave up on them. */
  #giveBack(calls: Call[], why: 'withdrawn' | 'not_begun'): void {
    const live = calls.filter((c) => !c.settled);
    if (live.length > 0) this.#hooks.onCallsReturned?.(this, live, why);
  }

  #freeSlot(call: Call): void {
    this.#ledger?.give(call.slot!);
    call.slot = undefined;
  }

  /**
   * The worker is dead; its ledger says what it could not: the answers and chunks it had produced but not sent are
   * delivered now, and the calls it had not begun go back to the pool. What is left in flight had begun.
   */
  #salvage(): void {
    const record = this.#ledger?.read();
    if (!record) return;
    if (record.frames.length > 0 && this.#channel) {
      for (const message of this.#channel.recover(record.frames, record.base)) this.#onSalvaged(message);
    }
    const unstarted: Call[] = [];
    for (const call of this.#inFlight.values()) {
      if (call.slot !== undefined && !record.began(call.slot, call.id)) unstarted.push(call);
    }
    for (const call of unstarted) {
      this.#inFlight.settle(call.id);
      this.#freeSlot(call);
    }
    this.#giveBack(unstarted, 'not_begun');
  }

  /** A frame recovered from the ledger (the channel never handled it). */
  #onSalvaged(message: WorkerMessage): void {
    switch (message.type) {
      case 'result':
      case 'error':
        if (this.#inFlight.has(message.id)) this.#onMessage(message);
        return;
      case 'chunk': {
        const stream = this.#inFlight.get(message.id)?.stream;
        if (stream && message.seq === stream.received) stream.push(message.data);
        return;
      }
      case 'withdrawn':
        if (Array.isArray(message.ids)) this.#onWithdrawn(message.ids.filter((id) => this.#inFlight.has(id)));
        return;
      case 'log':
      case 'event':
        return this.#onMessage(message);
      default:
        return; // pongs, host calls: nothing to do for a worker that is gone
    }
  }

  // ── failure and exit ─────────────────────────────────────────────────────────────────────────────────────

  #breakChannel(problem: string): void {
    this.#hostKill ??= 'protocol_kill';
    this.#taint();
    this.#deathReason ??= `protocol error: ${problem}`;
    this.#hooks.logger.error({ pool: this.pool, worker: this.id }, `protocol error from worker: ${problem}`);
    this.#process?.signal('SIGKILL');
    this.#channel?.close();
  }

  #onChannelClose(close: ChannelClose): void {
    if (close.error) {
      this.#hostKill ??= 'protocol_kill';
      this.#taint();
      this.#deathReason ??= close.error.message;
      this.#hooks.logger.error({ pool: this.pool, worker: this.id }, close.error.message);
      this.#process?.signal('SIGKILL');
    }
    this.#beginDeath();
  }

  #failStart(
    message: string,
    python?: { pythonType?: string; traceback?: string | undefined; phase?: string; fix?: string },
  ): void {
    const start = this.#start;
    start?.clearDeadline();
    if (!start || this.state !== 'starting') return;
    const proc = this.#process;
    start.reject(
      new WorkerStartError(message, {
        pool: this.pool,
        workerId: this.id,
        pythonType: python?.pythonType,
        traceback: python?.traceback,
        phase: python?.phase,
        fix: python?.fix,
        exitCode: proc?.exitInfo?.code,
        signal: proc?.exitInfo?.signal,
        stderrTail: proc?.stderrTail(),
      }),
    );
    this.#deathReason ??= message;
    this.#process?.signal('SIGKILL');
    this.#channel?.close();
  }

  /** The channel closed or the process exited: collect the exit status, then finalize once. */
  #beginDeath(): void {
    if (this.#finalizing) return;
    this.#finalizing = true;
    this.#heartbeat?.stop();
    const serving = this.state !== 'starting' && this.state !== 'stopping';
    this.#taint(); // its exit status may take a moment: no new calls meanwhile
    const proc = this.#process!;
    if (serving) {
      this.#hooks.onDying?.(this, {
        callsInFlight: this.#inFlight.size,
        uptimeMs: this.readyAt === undefined ? 0 : Date.now() - this.readyAt,
      });
    }
    void (async () => {
      let exit = proc.exitInfo;
      if (!exit && this.state !== 'stopping') {
        exit = await Promise.race([
          proc.exited,
          new Promise<undefined>((r) => setTimeout(() => r(undefined), EXIT_AFTER_EOF_MS)),
        ]);
        if (!exit) proc.signal('SIGKILL');
      }
      this.#finalize(exit ?? (await proc.exited));
    })();
  }

  #finalizedWaiters: Array<() => void> = [];
  #isFinalized = false;

  #finalized(): Promise<void> {
    if (this.#isFinalized) return Promise.resolve();
    return new Promise((resolve) => this.#finalizedWaiters.push(resolve));
  }

  #finalize(exit: ExitInfo): void {
    this.#start?.clearDeadline();
    this.#inFlight.clearCancelDeadlines();
    this.#channel?.close();
    const wasStarting = this.state === 'starting';
    const crashed = this.state !== 'stopping';
    const callsInFlight = this.#inFlight.size;
    const proc = this.#process!;
    const status = describeExit(exit);
    const oomNow = this.#oomKillsAtSpawn === undefined ? undefined : oomKillCount();
    const kind = classifyExit({
      exit,
      stopping: !crashed,
      starting: wasStarting,
      hostKill: this.#hostKill,
      oomKillsDuringLife: oomNow === undefined ? undefined : oomNow - this.#oomKillsAtSpawn!,
    });
    if (wasStarting) {
      this.#failStart(
        startupExitMessage(
          this.id,
          this.#config.command?.[0] ?? this.#config.python.executable,
          exit,
          proc.stderrTail(),
        ),
      );
    }
    if (this.#inFlight.size > 0) this.#salvage();
    this.#ledger?.close();
    this.#shm?.close(); // after salvage (its results may be in segments): nothing of this worker stays in /dev/shm
    if (this.#inFlight.size > 0) {
      const error = crashedError({
        pool: this.pool,
        workerId: this.id,
        label: proc.label,
        pid: proc.pid,
        exit,
        callsInFlight: this.#inFlight.size,
        reason: this.#deathReason,
        stderrTail: proc.stderrTail(),
        kind,
      });
      const calls = this.#inFlight.takeAll();
      for (const call of calls) {
        if (!call.settled && this.#hooks.onCallCrashed?.(this, call, error)) continue;
        if (!call.settled) call.fail(error);
        this.#hooks.onCallDone(this, call, error);
      }
    }
    if (crashed) this.lastError ??= this.#deathReason ?? status;
    this.#lifecycle.transition(crashed ? 'crashed' : 'stopped');
    proc.setRef(false);
    this.#isFinalized = true;
    for (const waiter of this.#finalizedWaiters.splice(0)) waiter();
    this.#hooks.onExit(this, {
      crashed,
      exit,
      reason: this.#deathReason,
      kind,
      uptimeMs: this.readyAt === undefined ? 0 : Date.now() - this.readyAt,
      callsInFlight,
    });
  }

  // ── liveness ─────────────────────────────────────────────────────────────────────────────────────────────

  #startHeartbeat(): void {
    const settings = this.#config.heartbeat;
    if (!settings) return;
    this.#heartbeat = new Heartbeat({
      intervalMs: settings.intervalMs,
      timeoutMs: settings.timeoutMs,
      ping: (id) => this.#send({ type: 'ping', id }),
      onMissed: (silentMs, missed, fatal) => this.#hooks.onHeartbeatMissed?.(this, silentMs, missed, fatal),
      onSilent: (silentMs) =>
        this.endpoint !== undefined
          ? this.kill(remoteSilence(this.endpoint, silentMs, settings.timeoutMs), 'connection_lost')
          : this.kill(
              `no frame from the worker for ${Math.round(silentMs)} ms, not even a pong ` +
                `(heartbeat.timeoutMs ${settings.timeoutMs}): stuck in native code holding the GIL?`,
              'hang_kill',
            ),
    });
    this.#heartbeat.start();
  }

  /** Judged broken: take no new calls. (A starting worker fails its start instead.) */
  #taint(): void {
    if (this.state === 'ready' || this.state === 'draining') this.#lifecycle.transition('tainted');
  }

  // ── plumbing ─────────────────────────────────────────────────────────────────────────────────────────────

  #send(message: HostMessage): void {
    try {
      this.#channel?.send(message);
    } catch (err) {
      // Control messages are small and fixed-shape; failing to encode one is a host bug worth a loud log.
      this.#hooks.logger.error(
        { pool: this.pool, worker: this.id },
        `cannot send "${message.type}": ${(err as Error).message}`,
      );
    }
  }

  /** Idle workers must not keep the host alive; busy or starting ones must. */
  #updateRef(): void {
    const busy = this.#inFlight.size > 0 || this.state === 'starting' || this.state === 'stopping';
    if (busy === this.#refd || !this.#process) return;
    this.#refd = busy;
    this.#process.setRef(busy);
  }
}

export function newRunId(): string {
  return randomUUID().slice(0, 8);
}
