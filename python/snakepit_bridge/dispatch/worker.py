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
                  event-loop thread: task --> coroutine / async generator --> result, chunks ---> outbox
  socket <--sendall-- outbox (frames joined)

Who reads:

  main thread     idle: takes the role and blocks in read_once; runs what it got, then reads again.
                  After a batch of one message it first polls for ``spin_s`` (SNAKEPIT_SPIN_US, the pool's
                  ``spinUs``) without sleeping: calls made one at a time then find it awake, since a
                  sleeping virtual CPU takes tens of microseconds to wake.
                  Before each message it sets ``busy_since`` (a plain attribute: no lock, no wake-up).
  watchdog        looks every few ms; once one message has kept the main thread busy for
                  watchdog.TAKEOVER_S it takes the free role and reads (short polls) until the main
                  thread asks for it back (ReadRole.take_for_main: a flag and a byte on the wake-up pipe);
                  the main thread then drains the queue first.
  dedicated       a channel that cannot be polled (Connection.pollable false), or
  reader thread   SNAKEPIT_DEDICATED_READER=1: a reader thread holds the role for good and queues every
                  batch; the main thread waits on the queue.

So a short call is read, run and answered on one thread; a long one gets a reader within ~25 ms.

The main thread sends what it has buffered when nothing else is waiting, so a burst of calls is answered
with one ``sendall``. If a call then runs long, the watchdog sends the answers buffered before it when it
takes the role (the connection's flusher thread does that for streams, the event loop, and a dedicated reader).
Waits inside a call go through ``pump_until``: a sync tool calling a host tool reads (or takes from the
queue) and runs the calls that arrive meanwhile nested, so a host tool may call back into this worker
without a deadlock; a sync stream waiting for credit reads too, but queues the calls it gets, so sync
calls still run one at a time. Another thread that gives the main thread work (``post``) writes the
wake-up pipe, since the main thread may be blocked reading.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import queue as queue_module
import sys
import threading
import time

from ..channel.codec import SerializationError
from ..channel.values import marker
from ..channel.connection import PayloadTooLarge
from .. import tracing
from ..errors import CallCancelled, payload_too_large, serialization_error, shrunk
from ..refs import REFS, encode_by_ref
from ..sessions import end_session
from .calls import Call, CallTable
from .host_calls import HostCalls
from .interrupt import Interrupter
from .invoke import run_call
from .ledger import open_ledger
from .read_role import ReadRole
from .startup import handshake, start_adapter

__all__ = ["Worker"]

_WAKE = [{"type": "_wake"}]


class Worker:
    """One worker process's state, shared by its threads. ``run()`` is the whole life of the process."""

    def __init__(self, conn, options, lifeline=None) -> None:
        self.conn = conn
        self.options = options
        self.lifeline = lifeline  # dispatch.lifeline.Lifeline: leaving with the host
        self.heartbeat = None  # welcome's heartbeat settings, if the host sends heartbeats
        self.wanted_threads = None  # welcome's threads: the thread profile's pool size
        self.queue = queue_module.SimpleQueue()  # batches read by another thread, and work posted to us
        # The read role is shared by the main thread and the watchdog when the channel can be polled;
        # otherwise a dedicated reader thread holds it (see the module docstring).
        dedicated = not getattr(conn, "pollable", False) or os.environ.get("SNAKEPIT_DEDICATED_READER") == "1"
        self.role = None if dedicated else ReadRole()
        self.busy_since = None  # main thread: time.monotonic() when its current message started, or None
        # After a lone call, poll this long for the next one before sleeping: a sleeping (virtual) CPU wakes slowly.
        self.spin_s = _spin_seconds(os.environ.get("SNAKEPIT_SPIN_US"))
        # The ledger the host shares with a local worker (ledger.py): begun calls, and what is unsent.
        self.ledger = open_ledger(getattr(options, "ledger_fd", None))
        if self.ledger is not None:
            conn.mirror = self.ledger.outbox
        self.calls = CallTable(self.ledger)
        self.interrupter = Interrupter()
        self.threads = None  # the thread profile's pool of threads (threads.py), set up by start_adapter
        self.host = HostCalls(self)
        self.aio_runner = None
        self._aio_lock = threading.Lock()
        self.adapter = None
        self.tools = None
        self.reader = None
        self.ready = False
        self.exit_code = None
        self.depth = 0  # > 0 while the main thread waits inside a call (pump_until)
        self.deferred_shutdown = None
        self._handlers = {
            "release": self._on_release,
            "session_end": self._on_session_end,
            "shutdown": self._on_shutdown,
            "_wake": _ignore,
            "_eof": self._on_eof,
            "_exit": self._on_exit,
        }

    def run(self) -> int:
        """Handshake, start the adapter, serve until shutdown or EOF. Returns the exit code."""
        code = handshake(self)
        if code is None:
            code = start_adapter(self)
        return code if code is not None else self.serve()

    def aio(self):
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
        if self.role is None:
            return self._serve_queue()
        queue, role, flush, monotonic = self.queue, self.role, self.conn.flush, time.monotonic
        read_once, spin_s, perf_counter = self.reader.read_once, self.spin_s, time.perf_counter
        lone = False  # the last batch was one message: calls come one at a time, so the next is likely close
        try:
            while self.exit_code is None:
                if queue.empty():
                    role.take_for_main()
                    try:  # the watchdog may have queued something before it let go
                        batch = None
                        if queue.empty():
                            if lone and spin_s:  # poll without sleeping for a moment (Worker.spin_s)
                                end = perf_counter() + spin_s
                                while not batch and perf_counter() < end:
                                    batch = read_once(0)
                            if not batch:
                                batch = read_once(None)
                    finally:
                        role.release_main()
                    if not batch:
                        continue
                else:
                    batch = queue.get()
                lone = len(batch) == 1
                for msg in batch:
                    self.busy_since = monotonic()
                    self._handle(msg)
                    if self.exit_code is not None:
                        break
                if queue.empty():
                    flush()  # still "busy": a write the host does not take gets the watchdog reading
                self.busy_since = None
                del batch, msg  # drop references to arguments and results between calls
                if self.deferred_shutdown is not None and self.exit_code is None:
                    self._shutdown(self.deferred_shutdown)
        finally:
            self.busy_since = None
            flush()
        return self.exit_code

    def _serve_queue(self) -> int:
        # The dedicated reader thread queues every batch.
        get, empty, flush = self.queue.get, self.queue.empty, self.conn.flush
        try:
            while self.exit_code is None:
                batch = get()
                for msg in batch:
                    self._handle(msg)
                    if self.exit_code is not None:
                        break
                del batch, msg  # drop references to arguments and results between calls
                if self.deferred_shutdown is not None and self.exit_code is None:
                    self._shutdown(self.deferred_shutdown)
                if empty():
                    flush()
        finally:
            flush()
        return self.exit_code

    def _handle(self, msg) -> None:
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
        if self.role is not None:
            self.role.wake()  # it may be blocked reading

    def wake_main(self) -> None:
        """The reading thread: a main thread parked in ``pump_until`` must look at its condition again."""
        if self.role is None:
            self.queue.put(_WAKE)
        # With a shared role the thread that routed the frame held the role, so the main thread was not
        # reading: it runs bridge code or waits for the role, and checks its condition before it reads.

    def pump_until(self, done, timeout, run_nested: bool, call=None) -> None:
        """Main thread, inside a call: block until ``done()`` or ``timeout`` seconds, still serving the channel.

        With ``run_nested`` the sync calls (and ``release``, ``session_end``) that arrive meanwhile run here,
        nested, so a host tool may call back into this worker; without it they are queued and run after the
        current call, in order (sync calls stay one at a time). ``done`` is checked by this thread after
        every batch read, whoever read it.

        Raises:
            CallCancelled: ``call`` was cancelled, or the worker is stopping.
        """
        if self.role is None:
            if run_nested:
                return self._pump_queue(done, timeout, call)
            return self._wait_cond(done, timeout, call)
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
                            batch = None if ready else read_once(remaining)
                        finally:
                            role.release_main()
                        if not batch:
                            continue
                        if not run_nested:
                            queue.put(batch)  # after whatever the watchdog queued: the order holds
                            continue
                    for msg in batch:
                        self.busy_since = time.monotonic()
                        self._handle(msg)
                    self.busy_since = None
                    del batch
                    if queue.empty():
                        self.conn.flush()
        finally:
            self.busy_since = time.monotonic() if outer_busy is not None else None

    def wait_for_credit(self, call) -> None:
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
            with call.cond:
                while not has_credit() and call.cancel_reason is None:
                    call.cond.wait()
        if call.cancel_reason is not None:
            raise CallCancelled(call.cancel_reason)

    @contextlib.contextmanager
    def _waiting(self, call):
        # Around a wait inside a call (pump_until): what is buffered goes out first; no SIGUSR1 interrupts
        # meanwhile, since a cancel of ``call`` is a flag the wait checks (the reading thread sees
        # ``waiting_host``); ``depth`` says calls now run nested.
        self.conn.flush()
        saved = self.interrupter.suspend()
        if call is not None:
            call.waiting_host = True
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if call is not None:
                call.waiting_host = False
            self.interrupter.resume(saved)

    def _stopping(self, call) -> bool:
        return (call is not None and call.cancel_reason is not None) or self.exit_code is not None \
            or self.deferred_shutdown is not None or self.reader.eof

    def _check_pump(self, call) -> None:
        if call is not None and call.cancel_reason is not None:
            raise CallCancelled(call.cancel_reason)
        if self.exit_code is not None or self.deferred_shutdown is not None or self.reader.eof:
            raise CallCancelled("shutdown")

    def _pump_queue(self, done, timeout, call) -> None:
        # Dedicated reader: it queues every batch and a wake-up (wake_main) when what we wait for arrives.
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._waiting(call):
            while not done():
                self._check_pump(call)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return
                try:
                    batch = self.queue.get(timeout=remaining)
                except queue_module.Empty:
                    continue
                for msg in batch:
                    self._handle(msg)
                del batch
                if self.queue.empty():
                    self.conn.flush()

    def _wait_cond(self, done, timeout, call) -> None:
        # Dedicated reader, nothing to run meanwhile: sleep on the call's condition, which the reader
        # notifies on credit and cancel (Call.add_credit, Call.wake).
        self.conn.flush()
        deadline = None if timeout is None else time.monotonic() + timeout
        with call.cond:
            while not done() and not self._stopping(call):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return
                call.cond.wait(remaining)
        self._check_pump(call)

    # --------------------------------------------------------------------------------- answering

    def answer(self, call, value=None, error=None, flush=False) -> None:
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
                data = conn.encode(msg)
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

    def chunk_frame(self, call, seq: int, data, final: bool) -> bytes:
        """Encode one ``chunk`` (raises SerializationError / PayloadTooLarge)."""
        msg = {"type": "chunk", "id": call.id, "seq": seq, "data": data}
        if final:
            msg["final"] = True
        try:
            return self.conn.encode(msg)
        except SerializationError as exc:
            return self.encode_leaves(call, msg, exc)

    def encode_leaves(self, call, msg: dict, error: SerializationError):
        """Encode ``msg`` with each value that has no form replaced: by a marker when the call asked for
        graceful values, else (in a session) by an object reference (refs.py); else raise ``error``."""
        graceful = call.graceful if call is not None else None
        if graceful is not None:
            with_repr = bool(graceful.get("repr"))
            return self.conn.encode(msg, lambda value, path: marker(value, with_repr))
        return encode_by_ref(self.conn, call, msg, error)

    def request_exit(self, code) -> None:
        """Any thread: a tool raised SystemExit off the main thread; end the process from there."""
        self.post([{"type": "_exit", "code": code}])

    # ---------------------------------------------------------------------------------- stopping

    def _on_shutdown(self, msg: dict) -> None:
        if self.depth:  # inside a call's wait (pump_until): unwind that call first, then shut down from serve()
            self.deferred_shutdown = msg
        else:
            self._shutdown(msg)

    def _shutdown(self, msg: dict) -> None:
        """Stop taking calls, cancel what is open, run ``cleanup()``, say ``bye``."""
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
                if inspect.isawaitable(result):
                    self.aio().run_blocking(result)
            except Exception:
                import traceback  # only here: an idle worker does without it

                sys.stderr.write("snakepit_bridge: cleanup() failed:\n%s" % traceback.format_exc())
        self.conn.send({"type": "bye"})
        self.conn.close()
        self.exit_code = 0

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
        self.exit_code = 0

    def _on_exit(self, msg: dict) -> None:
        raise SystemExit(msg.get("code"))


def _ignore(msg) -> None:
    pass


def _spin_seconds(value) -> float:
    """``SNAKEPIT_SPIN_US`` (set by the host from the pool's ``spinUs``) in seconds; absent or bad: no polling."""
    try:
        return max(0.0, min(float(value), 10000.0)) / 1e6 if value else 0.0
    except ValueError:
        return 0.0
