"""The worker process: handshake, adapter start-up, then one loop on the main thread.

Data flow (docs/PROTOCOL.md has the messages):

  socket --recv--> reader thread: decode each frame, then by type
                    |-- ping -----------------------------------> pong ---------------------> outbox
                    |-- cancel, credit ---> call flags, SIGUSR1 to the main thread, task.cancel()
                    |-- host_result, host_error ---> the tool waiting for it
                    |-- call --> resolve the tool, check the arguments --- errors ----------> outbox
                    |             |-- async tool --- call_soon_threadsafe --> event-loop thread
                    |             `-- sync tool ----------------------+
                    `-- release, session_end, shutdown ---------------+
                                                                      | SimpleQueue, a batch per read
                                                                      v
                  main thread: serve() --> run_call --> sync tool / generator --> result, chunks --> outbox
                  event-loop thread: task --> coroutine / async generator --> result, chunks ---> outbox
  socket <--sendall-- outbox (frames joined)

The main thread sends what it has buffered when its queue is empty, so a burst of calls is answered
with one ``sendall``; a flusher thread bounds how long a frame can wait while the main thread is busy.
A sync tool that calls a host tool keeps pumping the queue (``wait_on_main``), so calls that arrive
meanwhile run nested: a host tool may call back into this worker without a deadlock.
"""

from __future__ import annotations

import inspect
import queue as queue_module
import sys
import threading
import time
import traceback

from ..channel.codec import SerializationError
from ..channel.connection import PayloadTooLarge
from .. import tracing
from ..errors import CallCancelled, payload_too_large, serialization_error, shrunk
from ..refs import REFS, by_ref
from ..sessions import end_session
from .calls import Call, CallTable
from .host_calls import HostCalls
from .interrupt import Interrupter
from .invoke import run_call
from .startup import handshake, start_adapter

__all__ = ["Worker"]


class Worker:
    """One worker process's state, shared by its threads. ``run()`` is the whole life of the process."""

    def __init__(self, conn, options, lifeline=None) -> None:
        self.conn = conn
        self.options = options
        self.lifeline = lifeline  # dispatch.lifeline.Lifeline: leaving with the host
        self.heartbeat = None  # welcome's heartbeat settings, if the host sends heartbeats
        self.queue = queue_module.SimpleQueue()
        self.calls = CallTable()
        self.interrupter = Interrupter()
        self.host = HostCalls(self)
        self.aio_runner = None
        self._aio_lock = threading.Lock()
        self.adapter = None
        self.tools = None
        self.reader = None
        self.ready = False
        self.exit_code = None
        self.depth = 0  # > 0 while the main thread waits inside call_host_tool
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
            run_call(self, msg)
        else:
            self._handlers[msg["type"]](msg)

    def wait_on_main(self, done, call, timeout) -> None:
        """Block the main thread until ``done()`` or ``timeout`` seconds, still handling the queue.

        Calls that arrive meanwhile run nested, so a host tool may call back into this worker.

        Raises:
            CallCancelled: ``call`` was cancelled, or the worker is stopping.
        """
        self.conn.flush()
        saved = self.interrupter.suspend()
        deadline = None if timeout is None else time.monotonic() + timeout
        if call is not None:
            call.waiting_host = True  # from now on the reader wakes us through the queue, not a signal
        self.depth += 1
        try:
            while not done():
                if call is not None and call.cancel_reason is not None:
                    raise CallCancelled(call.cancel_reason)
                if self.exit_code is not None or self.deferred_shutdown is not None:
                    raise CallCancelled("shutdown")
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
        finally:
            self.depth -= 1
            if call is not None:
                call.waiting_host = False
            self.interrupter.resume(saved)

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
            try:
                data = conn.encode({"type": "result", "id": call.id, "value": value})
            except SerializationError as exc:
                try:  # in a session, what cannot go by value goes as a reference (refs.py)
                    data = conn.encode({"type": "result", "id": call.id, "value": by_ref(call, value, exc)})
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
            msg["data"] = by_ref(call, data, exc, "chunk")
            return self.conn.encode(msg)

    def request_exit(self, code) -> None:
        """Any thread: a tool raised SystemExit off the main thread; end the process from there."""
        self.queue.put([{"type": "_exit", "code": code}])

    # ---------------------------------------------------------------------------------- stopping

    def _on_shutdown(self, msg: dict) -> None:
        if self.depth:  # inside call_host_tool: unwind that call first, then shut down from serve()
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

