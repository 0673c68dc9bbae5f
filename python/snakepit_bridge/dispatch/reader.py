"""The reader thread: reads frames, answers what must not wait, routes the rest.

It never runs user code, so it can answer ``ping`` and act on ``cancel``, ``credit`` and host-tool
answers while a tool keeps the main thread busy.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback

from ..channel.connection import ChannelClosed
from ..channel.framing import ProtocolError
from ..channel.values import DECODED_REFS
from ..errors import bridge_error, cancelled
from ..refs import resolve_args
from .calls import ASYNC, QUEUED, RUNNING, Call
from .invoke import resolve, start_async
from .lifeline import stop_own_group

__all__ = ["Reader"]

EOF_EXIT_GRACE_S = 1.0  # after EOF, how long the main thread gets to unwind before we _exit(0)

# Message types the main thread handles, in arrival order (besides sync calls).
_TO_MAIN = frozenset(["release", "session_end", "shutdown"])


class Reader:
    """Owns the reading side of the channel. Runs ``loop()`` in a daemon thread."""

    def __init__(self, worker) -> None:
        self.worker = worker
        self.routes = {
            "ping": self._ping,
            "cancel": self._cancel,
            "credit": self._credit,
            "host_result": worker.host.deliver,
            "host_error": worker.host.deliver,
        }
        self.thread = threading.Thread(target=self.loop, name="snakepit-reader", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def loop(self) -> None:
        """Read until EOF (exit 0) or a protocol error (exit 4)."""
        conn, queue, routes = self.worker.conn, self.worker.queue, self.routes
        decode = conn.codec.decode
        heard = self.worker.lifeline.heard if self.worker.lifeline is not None else _nothing
        bodies = conn.early_bodies
        try:
            while True:
                batch = []  # what the main thread must handle, in arrival order
                for body in bodies:
                    msg = decode(body)
                    mtype = msg.get("type")
                    if mtype == "call":
                        self._call(msg, batch)
                    elif mtype in _TO_MAIN:
                        batch.append(msg)
                    else:
                        route = routes.get(mtype)
                        if route is None:
                            raise ProtocolError("unknown message type %r" % (mtype,))
                        route(msg)
                    if DECODED_REFS:  # references outside call arguments stay tokens
                        del DECODED_REFS[:]
                if batch:
                    queue.put(batch)  # one item per read: the main loop sees the whole batch at once
                del batch, bodies
                bodies = conn.recv_frames()
                heard()
        except ChannelClosed:
            self._eof()
        except ProtocolError as exc:
            _die(4, "protocol error from the host: %s" % exc)
        except Exception:  # a bug in the bridge: same outcome, with the traceback
            _die(4, "reader thread failed:\n%s" % traceback.format_exc().rstrip())

    # ------------------------------------------------------------------------------------- routes

    def _call(self, msg: dict, batch: list) -> None:
        # Registered at once, so a cancel right behind it finds it; checked here, so errors need no
        # trip through the main thread; async tools start here, so they never wait behind a sync one.
        worker = self.worker
        call = Call(msg, worker.host)
        worker.calls.add(call)
        if not resolve(worker, call, flush=True):
            return  # answered: unknown tool or invalid arguments
        if DECODED_REFS and not self._resolve_refs(call):
            return  # answered: a reference this call may not use
        if call.is_async:
            start_async(worker, call)
        else:
            batch.append(call)

    def _resolve_refs(self, call) -> bool:
        # The arguments hold references: replace them by their objects, or refuse the call (a reference
        # from another session or worker, or one already released) without running anything.
        worker = self.worker
        tokens = DECODED_REFS[:]
        del DECODED_REFS[:]
        problem = resolve_args(call, tokens, worker.options.worker_id)
        if problem is None:
            return True
        worker.answer(call, error=bridge_error("invalid_arguments", "%s(): %s" % (call.tool, problem), {
            "tool": call.tool, "signature": "", "problem": problem}), flush=True)
        return False

    def _ping(self, msg: dict) -> None:
        self.worker.conn.send({"type": "pong", "id": msg.get("id")})

    def _credit(self, msg: dict) -> None:
        call = self.worker.calls.get(msg.get("id"))
        n = msg.get("n")
        if call is not None and call.cond is not None and isinstance(n, int) and n > 0:
            call.add_credit(n)

    def _cancel(self, msg: dict) -> None:
        self.cancel(msg.get("id"), msg.get("reason") or "abort")

    def cancel(self, call_id, reason: str) -> None:
        """Cancel one call wherever it is (see PROTOCOL.md section 5, Cancel)."""
        worker = self.worker
        found = worker.calls.cancel(call_id, reason)
        if found is None:
            return  # no open call with this id: ignored
        call, state, kind = found
        if state is QUEUED:
            worker.answer(call, error=cancelled(reason), flush=True)  # the main thread will skip it
        elif state is RUNNING and kind is ASYNC:
            runner = worker.aio_runner
            if runner is not None:  # None: the call has not reached the loop; it checks on arrival
                runner.cancel(call)
        elif state is RUNNING:
            call.wake()  # a stream waiting for credit
            if call.waiting_host:
                worker.queue.put([{"type": "_wake"}])  # parked in call_host_tool: it checks the flag
            else:
                worker.interrupter.interrupt()

    def _eof(self) -> None:
        # The host is gone: nothing we send can arrive. Unwind what runs, stop the main loop, and make
        # sure the process ends even if a tool ignores CallCancelled.
        worker = self.worker
        worker.conn.closed = True
        stop_own_group()  # the adapter's own subprocesses go with us
        for call in worker.calls.open_calls():
            self.cancel(call.id, "shutdown")
        worker.queue.put([{"type": "_eof"}])
        time.sleep(EOF_EXIT_GRACE_S)
        _die(0, None)


def _nothing() -> None:
    pass


def _die(code: int, message) -> None:
    if message:
        sys.stderr.write("snakepit_bridge: %s\n" % message)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)
