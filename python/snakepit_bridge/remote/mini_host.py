"""A small host, in Python, for one worker process: the host side of the local channel (PROTOCOL.md §4–§6).

Snakepit's unary RPCs (ExecuteTool, ExecuteStreamingTool, …) arrive one call at a time on gRPC threads; the
worker behind them is the ordinary ``python -m snakepit_bridge`` process, so every rule of a worker holds
(its threads, cancellation, sessions, host calls). This module turns a call into a ``call`` frame and its
``result``/``error``/``chunk`` frames back into a value, an error or an iterator.

    gRPC thread ── call() ──► PendingCall ──frame──► worker
    reader thread ◄── result | error | chunk | host_call | ping | log ◄── worker
"""

from __future__ import annotations

import itertools
import queue
import sys
import threading

from ..channel.codec import available_codecs, make_codec
from ..channel.connection import ChannelClosed, Connection
from ..channel.framing import DEFAULT_MAX_FRAME_BYTES, ProtocolError
from ..channel.values import DECODED_REFS
from ..errors import bridge_error
from .child import WorkerChild

__all__ = ["MiniHost", "WorkerFailed", "CallFailed", "STREAM_WINDOW"]

STREAM_WINDOW = 64
PROTOCOL_VERSION = 1
_END = object()


class WorkerFailed(Exception):
    """The worker could not start (its ``fatal`` ErrorInfo is ``info``) or is gone."""

    def __init__(self, message: str, info=None) -> None:
        super().__init__(message)
        self.info = info


class CallFailed(Exception):
    """A call ended in an ``error`` frame; ``info`` is its ErrorInfo."""

    def __init__(self, info: dict) -> None:
        super().__init__("%s: %s" % (info.get("type"), info.get("message")))
        self.info = info


class PendingCall:
    """One call in flight: its terminal frame, and its chunks for a stream."""

    def __init__(self, host, call_id: int, stream: bool, origin=None) -> None:
        self.host = host
        self.id = call_id
        self.origin = origin  # the caller's own id for this call (Snakepit's metadata call_id), if it gave one
        self.done = threading.Event()
        self.value = None
        self.error = None
        self.chunks = queue.SimpleQueue() if stream else None

    def wait(self, timeout=None):
        """The result value. Raises CallFailed, or WorkerFailed when the worker died first."""
        if not self.done.wait(timeout):
            raise TimeoutError("no answer within %s s" % timeout)
        if self.error is not None:
            if isinstance(self.error, Exception):
                raise self.error
            raise CallFailed(self.error)
        return self.value

    def iter_chunks(self):
        """Yield ``(data, final)`` per chunk, handing credit back as they are consumed; then the result."""
        consumed = 0
        while True:
            item = self.chunks.get()
            if item is _END:
                break
            consumed += 1
            if consumed % (STREAM_WINDOW // 2) == 0:
                self.host.send({"type": "credit", "id": self.id, "n": STREAM_WINDOW // 2})
            yield item
        self.wait()

    def cancel(self, reason: str = "abort") -> None:
        if not self.done.is_set():
            self.host.send({"type": "cancel", "id": self.id, "reason": reason})


class MiniHost:
    """Start a worker process and serve calls to it.

    Args:
        adapter: ``module:Class``.
        worker_id, pool, run_id: the worker's names.
        on_host_call: ``fn(msg) -> value`` for ``host_call`` frames (raise to answer with ``host_error``); None
            answers every host call with an error.
        codec: ``auto`` (msgpack when the worker has it) or ``json``.
    """

    def __init__(self, adapter: str, worker_id: str = "", pool: str = "", run_id: str = "", on_host_call=None,
                 codec: str = "auto", log=None) -> None:
        self.child = WorkerChild(adapter, worker_id, pool, run_id, codec)
        self.conn = Connection(self.child.sock.fileno())
        self.on_host_call = on_host_call
        self.log = log or (lambda message: sys.stderr.write(message + "\n"))
        self.codec = codec
        self.tools = []
        self.adapter = adapter
        self.hello = None
        self._ids = itertools.count(1)
        self._pending = {}
        self._lock = threading.Lock()
        self.dead = None  # why the worker is gone, once it is
        for stream, name in ((self.child.proc.stdout, "stdout"), (self.child.proc.stderr, "stderr")):
            threading.Thread(target=self._forward, args=(stream, name), daemon=True,
                             name="snakepit-%s" % name).start()

    # ------------------------------------------------------------------------------------ start-up

    def start(self, timeout: float = 60.0) -> None:
        """Handshake and wait for ``ready``. Raises WorkerFailed (with the ``fatal`` ErrorInfo) otherwise."""
        conn = self.conn
        conn.codec = make_codec("json")
        try:
            hello = conn.recv_message()
        except (ChannelClosed, ProtocolError) as exc:
            raise WorkerFailed("the worker exited before its hello (%s): %s" % (self._exit(), exc))
        if hello.get("type") != "hello" or hello.get("protocol") != PROTOCOL_VERSION:
            raise WorkerFailed("unexpected first frame from the worker: %r" % (hello,))
        self.hello = hello
        offered = hello.get("codecs") or ["json"]
        codec = "msgpack" if self.codec == "auto" and "msgpack" in offered and "msgpack" in available_codecs() \
            else "json"
        conn.send({"type": "welcome", "protocol": PROTOCOL_VERSION, "codec": codec,
                   "max_frame_bytes": DEFAULT_MAX_FRAME_BYTES})
        conn.set_limits(make_codec(codec), DEFAULT_MAX_FRAME_BYTES)
        try:
            answer = conn.recv_message()
        except (ChannelClosed, ProtocolError) as exc:
            raise WorkerFailed("the worker exited during start-up (%s): %s" % (self._exit(), exc))
        if answer.get("type") == "fatal":
            info = answer.get("error") or {}
            raise WorkerFailed("adapter %s failed to %s: %s: %s" % (
                self.adapter, "initialize" if answer.get("phase") == "initialize" else "import",
                info.get("type"), info.get("message")), info)
        if answer.get("type") != "ready":
            raise WorkerFailed("unexpected frame from the worker during start-up: %r" % (answer.get("type"),))
        self.tools = answer.get("tools") or []
        threading.Thread(target=self._read, daemon=True, name="snakepit-minihost").start()

    # --------------------------------------------------------------------------------------- calls

    def send(self, msg: dict) -> None:
        if self.dead is None:
            self.conn.send(msg)

    def call(self, tool: str, args: dict, session=None, timeout=None, stream: bool = False,
             correlation_id=None, origin=None) -> PendingCall:
        """Send a call; returns its PendingCall. ``origin`` is the caller's id for it, known before the worker
        can make a host call from it (``origin_of``). Raises WorkerFailed when the worker is gone, and the codec's
        SerializationError when an argument cannot be encoded."""
        if self.dead is not None:
            raise WorkerFailed(self.dead)
        call = PendingCall(self, next(self._ids), stream, origin)
        msg = {"type": "call", "id": call.id, "tool": tool, "args": args}
        if session:
            msg["session"] = session
        if timeout is not None:
            msg["timeout_ms"] = max(1, int(timeout * 1000))
        if stream:
            msg["stream"] = True
            msg["window"] = STREAM_WINDOW
        if correlation_id:
            msg["correlation_id"] = correlation_id
        with self._lock:
            self._pending[call.id] = call
        try:
            self.conn.send(msg)
        except Exception:
            with self._lock:
                self._pending.pop(call.id, None)
            raise
        return call

    def origin_of(self, call_id):
        """The ``origin`` of the call in flight with this id, or None."""
        with self._lock:
            call = self._pending.get(call_id)
        return call.origin if call is not None else None

    def end_session(self, session: str) -> None:
        self.send({"type": "session_end", "session": session})

    def shutdown(self, grace_ms: int = 2000) -> None:
        """Ask the worker to stop (it runs ``cleanup()``), then make sure it has."""
        try:
            self.send({"type": "shutdown", "grace_ms": grace_ms})
        except Exception:
            pass
        self.child.wait(grace_ms / 1000.0 + 1.0)
        self.child.close()

    # -------------------------------------------------------------------------------------- reading

    def _read(self) -> None:
        conn = self.conn
        try:
            while True:
                for body in conn.recv_frames():
                    msg = conn.codec.decode(body)
                    if DECODED_REFS:  # references stay tags here: this process is not the worker
                        del DECODED_REFS[:]
                    self._route(msg)
        except (ChannelClosed, ProtocolError, OSError) as exc:
            reason = "the worker ended (%s)" % self._exit() if isinstance(exc, ChannelClosed) else \
                "the worker broke the protocol: %s" % exc
        except Exception as exc:  # a bug here must not leave callers waiting
            reason = "the worker's reader failed: %r" % (exc,)
        self.dead = reason
        self.child.kill()
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        for call in pending:
            call.error = WorkerFailed(reason)
            call.done.set()
            if call.chunks is not None:
                call.chunks.put(_END)

    def _route(self, msg: dict) -> None:
        mtype = msg.get("type")
        if mtype in ("result", "error"):
            with self._lock:
                call = self._pending.pop(msg.get("id"), None)
            if call is None:
                return
            if mtype == "error":
                call.error = msg.get("error") or bridge_error("internal", "error without ErrorInfo")
            else:
                call.value = msg.get("value")
            call.done.set()
            if call.chunks is not None:
                call.chunks.put(_END)
        elif mtype == "chunk":
            call = self._pending.get(msg.get("id"))
            if call is not None and call.chunks is not None:
                call.chunks.put((msg.get("data"), bool(msg.get("final"))))
        elif mtype == "host_call":
            threading.Thread(target=self._host_call, args=(msg,), daemon=True, name="snakepit-hostcall").start()
        elif mtype == "ping":
            self.send({"type": "pong", "id": msg.get("id")})
        elif mtype == "log":
            self.log("worker %s: %s" % (msg.get("level", "info"), msg.get("message", "")))
        # pong, event, bye: nothing to do

    def _host_call(self, msg: dict) -> None:
        try:
            if self.on_host_call is None:
                raise LookupError("this worker's host offers no host tools")
            value = self.on_host_call(msg)
            self.send({"type": "host_result", "id": msg.get("id"), "value": value})
        except Exception as exc:
            name = getattr(exc, "error_name", None) or type(exc).__name__
            self.send({"type": "host_error", "id": msg.get("id"), "error": {"name": name, "message": str(exc)}})

    def _forward(self, stream, name: str) -> None:
        for raw in iter(stream.readline, b""):
            self.log("worker %s: %s" % (name, raw.decode("utf-8", "replace").rstrip("\n")))

    def _exit(self) -> str:
        code = self.child.proc.poll()
        if code is None:
            return "still running"
        return "exit code %d" % code if code >= 0 else "signal %d" % -code
