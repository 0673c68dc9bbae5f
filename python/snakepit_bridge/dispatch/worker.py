"""The worker process: handshake, adapter start-up, then one loop on the main thread.

Reading the channel is a role (read_role.py) that one thread holds at a time; the thread that reads
answers what must not wait and routes the rest (reader.py, docs/PROTOCOL.md has the messages):

  socket --poll, recv--> read_once (whoever holds the read role), decode each frame, then by type
                    |-- ping -----------------------------------> pong ---------------------> outbox
                    |-- cancel, credit ---> call flags, SIGUSR1 to the main thread, task.cancel()
                    |-- host_result, host_error ---> the tool waiting for it
                    |-- call --> resolve the tool, check the arguments --- errors ----------> outbox
                    |             |-- async tool --- call_soon_threadsafe --> event-loop thread
                    |             `-- sync tool ----------------------+
                    `-- release, session_end, shutdown ---------------+
                                                                      | the batch, in arrival order:
                          read by the main thread: returned to it ----+---- read by the watchdog:
                          and run inline (the fast path)              |     Worker.queue
                                                                      v
                  main thread: serve() --> run_call --> sync tool / generator --> result, chunks --> outbox
                               (a plain call: run inline in _run_batch, the same steps) ----> result ---> outbox
                  event-loop thread: task --> coroutine / async generator --> result, chunks ---> outbox
  socket <--sendall-- outbox (frames joined)

Who reads:

  main thread     idle: takes the role and blocks in read_once; runs what it got, then reads again.
                  After a second batch of one message in a row it first polls for ``spin_s``
                  (SNAKEPIT_SPIN_US, the pool's ``spinUs``) without sleeping: calls made one at a time then
                  find it awake, since a sleeping virtual CPU takes tens of microseconds to wake. One lone
                  batch between larger ones is not such a caller: under load a lone call and a large batch
                  often take turns (the calls in flight travel in two groups), and polling after each lone
                  one burned up to ``spin_s`` of CPU per round for nothing the host was about to send.
                  A poll that found nothing backs off: the next 1, 2, 4, ... 16 chances are let pass, so a
                  caller slower than ``spin_s`` (or a host busy elsewhere) costs the worker little.
                  Before each message it sets ``busy_since`` (a plain attribute: no lock, no wake-up).
  watchdog        looks every few ms; once one message has kept the main thread busy for
                  watchdog.TAKEOVER_S it takes the free role and reads (short polls) until the main
                  thread asks for it back (ReadRole.take_for_main: a flag and a byte on the wake-up pipe);
                  the main thread then drains the queue first.

So a short call is read, run and answered on one thread; a long one gets a reader within ~25 ms.

The main thread sends what it has buffered when nothing else is waiting, so a burst of calls is answered
with one ``sendall``. If a call then runs long, the watchdog sends the answers buffered before it when it
takes the role (the connection's flusher thread does that for streams and the event loop).
Waits inside a call go through ``pump_until``: a sync tool calling a host tool reads (or takes from the
queue) and runs the calls that arrive meanwhile nested, so a host tool may call back into this worker
without a deadlock; a sync stream waiting for credit reads too, but queues the calls it gets, so sync
calls still run one at a time. Another thread that gives the main thread work (``post``) writes the
wake-up pipe, since the main thread may be blocked reading.

The worker's lifecycle is one ``WorkerState`` (worker_api.py); the other modules see the worker through
``WorkerApi``, its typed interface.
"""

from __future__ import annotations

import os
import struct
from _queue import SimpleQueue  # queue.SimpleQueue itself, without queue.py and heapq
import sys
import threading
import time

from ..channel.codec import SerializationError
from ..channel.values import marker
from ..channel.connection import LARGE_WRITE_BYTES, PayloadTooLarge
from .. import tracing
from ..errors import CallCancelled, cancelled, error_info, payload_too_large, serialization_error, shrunk
from ..refs import REFS, encode_by_ref
from ..signature import is_awaitable
from ..sessions import end_session
from ..session_context import current_call
from .calls import DONE, SYNC, Call, CallTable
from .host_calls import HostCalls
from .interrupt import Interrupter
from .invoke import PLAIN_TYPES as _PLAIN, deliver, run_call
from .ledger import open_ledger
from .memory import IDLE_TRIM_S, trim_heap
from .read_role import ReadRole
from .startup import handshake, start_adapter
from .worker_api import WorkerState

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers only: the worker does not import typing at start
    from typing import Any, Callable

    from ..channel.connection import Connection
    from .lifeline import Lifeline
    from .reader import Reader
    from .tools import ToolTable
    from .worker_api import AioApi, HostApi, ThreadsApi, WorkerApi

__all__ = ["Worker"]

STARTING, SERVING, STOPPING, HOST_GONE, EXITED = (WorkerState.STARTING, WorkerState.SERVING, WorkerState.STOPPING,
                                                  WorkerState.HOST_GONE, WorkerState.EXITED)


class Worker:
    """One worker process's state, shared by its threads. ``run()`` is the whole life of the process."""

    def __init__(self, conn: Connection, options: Any, lifeline: Lifeline | None = None) -> None:
        self.conn = conn
        self.options = options
        self.lifeline = lifeline  # dispatch.lifeline.Lifeline: leaving with the host
        self.heartbeat: dict | None = None  # welcome's heartbeat settings, if the host sends heartbeats
        self.wanted_threads: int | None = None  # welcome's threads: the thread profile's pool size
        self.queue: SimpleQueue[list] = SimpleQueue()  # batches read by the watchdog, and work posted to us
        self.role = ReadRole()  # who reads the channel: the main thread, or the watchdog during a long call
        self.state = STARTING  # only moves forward (advance); see worker_api.WorkerState
        self.exit_code: int | None = None  # what serve() returns, set together with EXITED
        self._state_lock = threading.Lock()  # the reading thread and the main thread both advance the state
        self._shutdown_msg: dict | None = None  # the shutdown that STOPPING waits to carry out
        # Main-thread activity (not lifecycle): when its current message started (a plain attribute the watchdog
        # reads: no lock, no wake-up), and how many calls are waiting inside pump_until (> 0: calls run nested).
        self.busy_since: float | None = None
        self._nesting = 0
        self._encode_scalars: Callable[[dict], bytes] | None = None  # set by serve(), for _run_batch
        # After a lone call, poll this long for the next one before sleeping: a sleeping (virtual) CPU wakes slowly.
        self.spin_s = _spin_seconds(os.environ.get("SNAKEPIT_SPIN_US"))
        # The ledger the host shares with a local worker (ledger.py): begun calls, and what is unsent.
        self.ledger = open_ledger(getattr(options, "ledger_fd", None))
        if self.ledger is not None:
            conn.mirror = self.ledger.outbox
        self.calls = CallTable(self.ledger)
        self.interrupter = Interrupter()
        self.threads: ThreadsApi | None = None  # the thread profile's pool (threads.py), set up by start_adapter
        self.host: HostApi = HostCalls(self)
        self.aio_runner: AioApi | None = None
        self._aio_lock = threading.Lock()
        self.adapter: Any = None
        self.tools: ToolTable | None = None
        self.reader: Reader | None = None  # set by start_adapter once the worker serves
        self._handlers: dict[str, Callable[[dict], None]] = {
            "release": self._on_release,
            "session_end": self._on_session_end,
            "shutdown": self._on_shutdown,
            "_eof": self._on_eof,
            "_exit": self._on_exit,
        }

    def run(self) -> int:
        """Handshake, start the adapter, serve until shutdown or EOF. Returns the exit code."""
        code = handshake(self)
        if code is None:
            code = start_adapter(self)
        return code if code is not None else self.serve()

    def advance(self, state: WorkerState) -> None:
        """Move the lifecycle forward to ``state`` (any thread); a state already passed stays passed."""
        with self._state_lock:
            if state.value > self.state.value:
                self.state = state

    def mark_ready(self) -> None:
        """``ready`` is sent: calls are served from now on (host tools may be called)."""
        self.advance(SERVING)

    def host_gone(self) -> None:
        """The reading thread saw end of file: waits inside calls stop; the main loop ends on ``_eof``."""
        self.advance(HOST_GONE)

    def _exit(self, code: int) -> None:
        self.exit_code = code
        self.advance(EXITED)

    def aio(self) -> AioApi:
        """The event-loop thread (an ``aio.AsyncRunner``), started on first use."""
        if self.aio_runner is None:
            with self._aio_lock:  # the reader and the main thread may both get here first
                if self.aio_runner is None:
                    from .aio import AsyncRunner  # asyncio only for adapters that use it

                    self.aio_runner = AsyncRunner(self)
        return self.aio_runner

    # ---------------------------------------------------------------------------------- the loop

    def serve(self) -> int:
        """The main loop: take a batch, handle each message, flush when nothing else is waiting."""
        assert self.reader is not None, "start_adapter creates the reader"
        queue, role, flush, monotonic = self.queue, self.role, self.conn.flush, time.monotonic
        read_once, spin_s, perf_counter = self.reader.read_once, self.spin_s, time.perf_counter
        codec = self.conn.codec
        assert codec is not None, "the codec is set by the handshake"
        self._encode_scalars = codec.inline_encoder()  # this (main) thread's: _run_batch
        # The last two batches were one message each: calls come one at a time, so the next is likely close.
        lone = last_lone = False
        missed = skip = 0  # the post-call poll's back-off: lone batches to let pass without polling
        # Something ran since the heap was last trimmed: give its freed memory back once idle (memory.py).
        trim_due = False
        try:
            while self.state is not EXITED:
                if queue.empty():
                    role.take_for_main()
                    try:  # the watchdog may have queued something before it let go
                        batch = None
                        if queue.empty():
                            if lone and spin_s:  # poll without sleeping for a moment (Worker.spin_s)
                                if skip:
                                    skip -= 1
                                else:
                                    role.spins += 1
                                    end = perf_counter() + spin_s
                                    while not batch and perf_counter() < end:
                                        batch = read_once(0)
                                    # Nothing came: the caller is not that quick. Skip the next 1, 2, 4, ... 16
                                    # chances to poll (a spin that finds a message starts over).
                                    missed = 0 if batch else min(missed * 2 + 1, _SPIN_SKIP_MAX)
                                    skip = missed
                            if not batch and trim_due:  # wait a moment, then give freed memory back
                                trim_due = False
                                batch = read_once(IDLE_TRIM_S)
                                if not batch:  # idle, or woken by a post (trimming early costs nothing):
                                    trim_heap()  # back to the queue either way, not into a blocking read
                            elif not batch:
                                batch = read_once(None)
                    finally:
                        role.release_main()
                    if not batch:
                        continue
                else:
                    batch = queue.get()
                lone, last_lone = last_lone and len(batch) == 1, len(batch) == 1
                trim_due = True
                self._run_batch(batch)
                if queue.empty():
                    flush()  # still "busy": a write the host does not take gets the watchdog reading
                self.busy_since = None
                del batch  # drop references to arguments and results between calls
                if self._shutdown_msg is not None and self.state is not EXITED:
                    self._shutdown(self._shutdown_msg)
        finally:
            self.busy_since = None
            flush()
        return self.exit_code if self.exit_code is not None else 0

    def _run_batch(self, batch: list) -> None:
        """Main thread: handle the messages of one batch in order (``serve``).

        A call ``invoke.resolve`` marked ``plain`` (a sync tool method taking its arguments as keywords, not a
        stream, not traced: most calls of a busy worker) runs right here, with what it needs bound once per
        batch: the same steps as ``invoke.run_call`` (start it in the call table, arm cancellation around the
        tool's code only, the call in ``current_call``), and a scalar result answered as ``answer`` would (the
        call leaves the table, one ``result`` frame) with the encoder called directly. Anything else, and
        anything out of the ordinary on this path (an exception, a result ``answer``'s fast encoder refuses,
        a frame of 64 KiB or more), takes the general functions.
        """
        monotonic = time.monotonic
        inline = self.threads is None  # sync calls run here (else on the thread profile's pool)
        start, table = self.calls.start, self.calls._calls
        interrupter: Any = self.interrupter
        set_call, reset_call = current_call.set, current_call.reset
        encode, buffer = self._encode_scalars, self.conn.buffer
        assert encode is not None, "serve() sets it before the first batch"
        limit = min(self.conn.max_frame_bytes, LARGE_WRITE_BYTES - 1)  # larger frames: answer() frames them
        for msg in batch:
            self.busy_since = monotonic()
            if not inline or type(msg) is not Call:
                self._handle(msg)
            elif not msg.plain:
                run_call(self, msg)
            elif start(msg, SYNC):  # False: cancelled while queued, and answered by the reader
                ran = False
                token = set_call(msg)
                try:
                    # Interrupter.enter and leave, inlined: armed only around the tool's own code.
                    interrupter.call = msg
                    interrupter.armed = True
                    try:
                        if interrupter.budget is not None:
                            interrupter.budget.start(msg)
                        if msg.cancel_reason is not None:
                            interrupter.armed = False
                            raise CallCancelled(msg.cancel_reason)
                        result = msg.func(**msg.args)  # type: ignore[misc]  # resolve() set func
                    finally:
                        interrupter.armed = False
                        interrupter.call = None
                    ran = True
                except CallCancelled as exc:
                    self.answer(msg, error=cancelled(msg.cancel_reason or exc.reason))
                except SystemExit:
                    raise
                except BaseException as exc:
                    self.answer(msg, error=error_info(exc))
                finally:
                    reset_call(token)
                if ran:
                    body = None
                    if type(result) in _SCALARS:
                        try:
                            body = encode({"type": "result", "id": msg.id, "value": result})
                        except Exception:  # answer() encodes it the general way, or answers with the error
                            pass
                    if body is not None and len(body) <= limit and msg.state is not DONE:
                        # CallTable.finish: whoever takes the call out of the table sends its one terminal frame.
                        found = table.pop(msg.id, None)
                        if found is msg:
                            msg.state = DONE
                            msg.args = msg.func = msg._context = None  # Call.release (no task or sender here)
                            buffer(_pack_size(len(body)) + body)
                        elif found is not None:
                            table.setdefault(found.id, found)
                    elif type(result) in _PLAIN or body is not None:
                        self.answer(msg, result)
                    else:
                        deliver(self, msg, result, interrupter)
                    del result
            if self.state is EXITED:
                break

    def _handle(self, msg: Any) -> None:
        if type(msg) is Call:
            if self.threads is None:
                run_call(self, msg)
            else:
                self.threads.submit(msg)
        else:
            self._handlers[msg["type"]](msg)

    def post(self, batch: list) -> None:
        """Any thread: give the main thread messages to handle, after what it already has."""
        self.queue.put(batch)
        self.role.wake()  # it may be blocked reading

    def pump_until(self, done: Callable[[], bool], timeout: float | None, run_nested: bool,
                   call: Call | None = None) -> None:
        """Main thread, inside a call: block until ``done()`` or ``timeout`` seconds, still serving the channel.

        With ``run_nested`` the sync calls (and ``release``, ``session_end``) that arrive meanwhile run here,
        nested, so a host tool may call back into this worker; without it they are queued and run after the
        current call, in order (sync calls stay one at a time). ``done`` is checked by this thread after
        every batch read, whoever read it: the reading thread that routes what ``done`` waits for needs no
        wake-up, since the main thread either reads itself or waits for the role before it reads.

        Raises:
            CallCancelled: ``call`` was cancelled, or the worker is stopping.
        """
        assert self.reader is not None, "calls run once the reader exists"
        deadline = None if timeout is None else time.monotonic() + timeout
        outer_busy, self.busy_since = self.busy_since, None  # reading is not being busy
        queue, role, read_once = self.queue, self.role, self.reader.read_once
        try:
            with self._waiting(call):
                while not done():
                    self._check_pump(call)
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return
                    if run_nested and not queue.empty():
                        batch = queue.get()
                    else:
                        role.take_for_main()
                        try:  # the watchdog may have read what we wait for, or queued work, before it let go
                            ready = done() or (run_nested and not queue.empty()) or self._stopping(call)
                            read = None if ready else read_once(remaining)
                        finally:
                            role.release_main()
                        if not read:
                            continue
                        if not run_nested:
                            queue.put(read)  # after whatever the watchdog queued: the order holds
                            continue
                        batch = read
                    for msg in batch:
                        self.busy_since = time.monotonic()
                        self._handle(msg)
                    self.busy_since = None
                    del batch
                    if queue.empty():
                        self.conn.flush()
        finally:
            self.busy_since = time.monotonic() if outer_busy is not None else None

    def wait_for_credit(self, call: Call) -> None:
        """Block until the host grants ``call`` (a stream) another chunk (any thread).

        Raises:
            CallCancelled: the call was cancelled.
        """
        def has_credit() -> bool:
            return call.granted - call.spent > 0

        if threading.get_ident() == self.interrupter.main_ident:
            self.pump_until(has_credit, None, run_nested=False, call=call)
        else:  # a tool's own thread: the reading thread wakes us (Call.add_credit, Call.wake)
            self.conn.flush()
            cond = call.cond
            assert cond is not None, "a stream's call has a condition"
            with cond:
                while not has_credit() and call.cancel_reason is None:
                    cond.wait()
        if call.cancel_reason is not None:
            raise CallCancelled(call.cancel_reason)

    def _waiting(self, call: Call | None) -> _Waiting:
        # Around a wait inside a call (pump_until): what is buffered goes out first; no SIGUSR1 interrupts
        # meanwhile, since a cancel of ``call`` is a flag the wait checks (the reading thread sees
        # ``waiting_host``); ``_nesting`` says calls now run nested.
        return _Waiting(self, call)

    def _stopping(self, call: Call | None) -> bool:
        return (call is not None and call.cancel_reason is not None) or self.state.value >= STOPPING.value

    def _check_pump(self, call: Call | None) -> None:
        if call is not None and call.cancel_reason is not None:
            raise CallCancelled(call.cancel_reason)
        if self.state.value >= STOPPING.value:
            raise CallCancelled("shutdown")

    # --------------------------------------------------------------------------------- answering

    def answer(self, call: Call, value: Any = None, error: dict | None = None, flush: bool = False) -> None:
        """Send the one terminal frame of ``call`` (``result``, or ``error`` if given). Any thread.

        A result that cannot be encoded is answered with a ``serialization`` or ``payload_too_large``
        error instead. A second answer for the same call is dropped.
        """
        if not self.calls.finish(call):
            return
        conn = self.conn
        if error is None:
            msg = {"type": "result", "id": call.id, "value": value}
            try:
                data = conn.encode(msg, None, type(value) in _SCALARS)
            except SerializationError as exc:
                try:  # a marker (graceful) or, in a session, a reference for what cannot go by value
                    data = self.encode_leaves(call, msg, exc)
                except SerializationError as exc2:
                    error = serialization_error(exc2)
                except PayloadTooLarge as exc2:
                    error = payload_too_large(exc2)
            except PayloadTooLarge as exc:
                error = payload_too_large(exc)
        if error is not None:
            # An ErrorInfo that cannot be sent as it is (invalid text, a traceback above the frame
            # limit) is cut down, so the call still gets its one terminal frame.
            for candidate in (error, shrunk(error, 16384), shrunk(error, 256)):
                try:
                    data = conn.encode({"type": "error", "id": call.id, "error": candidate})
                    break
                except (SerializationError, PayloadTooLarge):
                    continue
            else:
                sys.stderr.write("snakepit_bridge: cannot send the error of call %r\n" % (call.id,))
                if call.span is not None:
                    tracing.finish(call, error)
                return
        if call.span is not None:
            tracing.finish(call, error)
        call.release()
        conn.buffer(data)
        if flush:
            conn.flush()

    def chunk_frame(self, call: Call, seq: int, data: Any, final: bool) -> Any:
        """Encode one ``chunk`` (raises SerializationError / PayloadTooLarge)."""
        msg: dict = {"type": "chunk", "id": call.id, "seq": seq, "data": data}
        if final:
            msg["final"] = True
        try:
            return self.conn.encode(msg)
        except SerializationError as exc:
            return self.encode_leaves(call, msg, exc)

    def encode_leaves(self, call: Call | None, msg: dict, error: SerializationError) -> Any:
        """Encode ``msg`` with each value that has no form replaced: by a marker when the call asked for
        graceful values, else (in a session) by an object reference (refs.py); else raise ``error``."""
        graceful = call.graceful if call is not None else None
        if graceful is not None:
            with_repr = bool(graceful.get("repr"))
            return self.conn.encode(msg, lambda value, path: marker(value, with_repr))
        return encode_by_ref(self.conn, call, msg, error)

    def request_exit(self, code: object) -> None:
        """Any thread: a tool raised SystemExit off the main thread; end the process from there."""
        self.post([{"type": "_exit", "code": code}])

    # ---------------------------------------------------------------------------------- stopping

    def _on_shutdown(self, msg: dict) -> None:
        if self._nesting:  # inside a call's wait (pump_until): unwind that call first, then shut down from serve()
            self._shutdown_msg = msg
            self.advance(STOPPING)
        else:
            self._shutdown(msg)

    def _shutdown(self, msg: dict) -> None:
        """Stop taking calls, cancel what is open, run ``cleanup()``, say ``bye``."""
        assert self.reader is not None, "a shutdown is read by the reader"
        self._shutdown_msg = None
        grace_ms = msg.get("grace_ms")
        deadline = time.monotonic() + (grace_ms / 1000.0 if isinstance(grace_ms, (int, float)) else 5.0)
        for call in self.calls.open_calls():
            self.reader.cancel(call.id, "shutdown")
        while len(self.calls) and time.monotonic() < deadline:  # async calls answer from their loop
            time.sleep(0.005)
        cleanup = getattr(self.adapter, "cleanup", None)
        if cleanup is not None:
            try:
                result = cleanup()
                if is_awaitable(result):
                    self.aio().run_blocking(result)
            except Exception:
                import traceback  # only here: an idle worker does without it

                sys.stderr.write("snakepit_bridge: cleanup() failed:\n%s" % traceback.format_exc())
        self.conn.send({"type": "bye"})
        self.conn.close()
        self._exit(0)

    # ------------------------------------------------------------------------------ references

    def _on_release(self, msg: dict) -> None:
        refs, session = msg.get("refs"), msg.get("session")
        if isinstance(refs, list):
            REFS.release([r for r in refs if isinstance(r, str)], session if isinstance(session, str) else None)

    def _on_session_end(self, msg: dict) -> None:
        session = msg.get("session")
        if isinstance(session, str):
            end_session(session, self.adapter)

    def _on_eof(self, msg: dict) -> None:
        self._exit(0)

    def _on_exit(self, msg: dict) -> None:
        raise SystemExit(msg.get("code"))


if TYPE_CHECKING:
    def _implements_worker_api(worker: Worker) -> WorkerApi:
        return worker  # mypy checks here that Worker has everything WorkerApi promises


# After a post-call poll that found nothing, at most this many lone batches pass before the next one polls.
_SPIN_SKIP_MAX = 16

# Results of these types hold nothing that could go to shared memory (Connection.encode's ``inline``).
_SCALARS = frozenset([int, float, bool, str, type(None)])
_pack_size = struct.Struct(">I").pack  # a frame's length prefix (framing.py)


def _spin_seconds(value: str | None) -> float:
    """``SNAKEPIT_SPIN_US`` (set by the host from the pool's ``spinUs``) in seconds; absent or bad: no polling."""
    try:
        return max(0.0, min(float(value), 10000.0)) / 1e6 if value else 0.0
    except ValueError:
        return 0.0


class _Waiting:
    """``Worker._waiting``'s context: a class rather than ``contextlib.contextmanager``, which a worker's start
    would otherwise import for it (docs/PERFORMANCE.md, "Start of one worker")."""

    __slots__ = ("worker", "call", "saved")

    def __init__(self, worker: Worker, call: Call | None):
        self.worker, self.call, self.saved = worker, call, None

    def __enter__(self) -> None:
        worker, call = self.worker, self.call
        worker.conn.flush()
        self.saved = worker.interrupter.suspend()
        if call is not None:
            call.waiting_host = True
        worker._nesting += 1

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:  # None: an exception goes on
        worker, call = self.worker, self.call
        worker._nesting -= 1
        if call is not None:
            call.waiting_host = False
        worker.interrupter.resume(self.saved)
