"""Reading the channel: ``read_once`` reads a batch of frames, answers what must not wait, routes the rest.

It runs no user code, so whoever holds the read role (``read_role.py``) can answer ``ping`` and act on
``cancel``, ``credit`` and host-tool answers at once, and check and start calls, while a tool runs:

- the main thread, when it has nothing else to do: it runs the sync calls ``read_once`` returns inline;
- the watchdog thread (``watchdog.py``), while the main thread is busy in a long call: it queues them.
"""

from __future__ import annotations

import math
import select
import sys
import threading
import time

from ..channel.connection import ChannelClosed
from ..channel.framing import ProtocolError
from ..channel.values import DECODED_PROBLEMS, DECODED_REFS, UndecodableValue, find_bad
from ..errors import bridge_error, cancelled
from ..refs import resolve_args
from .calls import ASYNC, QUEUED, RUNNING, THREAD, Call
from .invoke import BUILTIN_NAMES, resolve, start_async
from .lifeline import leave, stop_own_tree
from .watchdog import Watchdog

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers only: the worker does not import typing at start
    from typing import Callable, NoReturn

    from .tools import ToolTable
    from .worker_api import WorkerApi

__all__ = ["Reader", "EOF_MESSAGE"]

EOF_SWITCH_INTERVAL_S = 0.0002  # the GIL's hand-over period once the host is gone (see _on_eof)
EOF_EXIT_GRACE_S = 1.0  # after EOF, how long the main thread gets to unwind before we _exit(0)

# Message types the main thread handles, in arrival order (besides sync calls).
_TO_MAIN = frozenset(["release", "session_end", "shutdown"])

EOF_MESSAGE = {"type": "_eof"}  # what read_once returns once the host is gone
_EOF_BATCH = (EOF_MESSAGE,)

class Reader:
    """Owns the reading side of the channel (``read_once``) and the thread that reads besides the main one."""

    def __init__(self, worker: WorkerApi) -> None:
        self.worker = worker
        self.routes = {
            "ping": self._ping,
            "cancel": self._cancel,
            "withdraw": self._withdraw,
            "credit": self._credit,
            "host_result": worker.host.deliver,
            "host_error": worker.host.deliver,
        }
        self.eof = False  # the host is gone; read_once returns EOF_MESSAGE from now on
        self._keyword_tools: dict | None = None  # _keyword_tools(worker.tools), on the first batch
        self._early: list | None = worker.conn.early_bodies  # frames read together with the handshake
        self._heard = worker.lifeline.heard if worker.lifeline is not None else _nothing
        self._wait = _make_wait(worker.conn.fd, worker.role.wake_fd, worker.role.drain)  # channel + wake-up pipe
        self.thread = Watchdog(worker, self).thread

    def start(self) -> None:
        """Start the watchdog thread."""
        self.thread.start()

    def read_once(self, timeout: float | None = None) -> list:
        """Read one batch of frames and return what the main thread must handle, in arrival order.

        Waits at most ``timeout`` seconds (None: until something arrives) for the channel; returns an empty
        batch on a timeout or a wake-up. ``ping``, ``cancel``, ``credit`` and host answers are acted on here;
        calls are registered and checked here (an async one is started); sync calls, ``release``,
        ``session_end`` and ``shutdown`` are returned. Once the host is gone it returns ``[EOF_MESSAGE]``.
        The caller must hold the read role.

        A protocol error ends the process with exit code 4 (as does a bug in this code); end of file
        cancels what runs and ends the process within ``EOF_EXIT_GRACE_S`` even if a tool hangs on.
        """
        try:
            bodies = self._early
            if bodies:
                self._early = None
            else:
                if self.eof:
                    return list(_EOF_BATCH)
                if not self._wait(timeout):
                    return []
                bodies = self.worker.conn.recv_frames()
                self._heard()
            return self._route(bodies)
        except ChannelClosed:
            self._on_eof()
            return list(_EOF_BATCH)
        except ProtocolError as exc:
            _die(4, "protocol error from the host: %s" % exc)
        except Exception:  # a bug in the bridge: same outcome, with the traceback
            import traceback  # only here: an idle worker does without it

            _die(4, "reading the channel failed:\n%s" % traceback.format_exc().rstrip())

    def _route(self, bodies: list) -> list:
        codec = self.worker.conn.codec
        assert codec is not None, "the codec is set by the handshake"
        decode, routes = codec.decode, self.routes
        batch: list = []  # what the main thread must handle, in arrival order
        worker = self.worker
        host, add = worker.host, worker.calls.add
        keyword_tools = self._keyword_tools
        if keyword_tools is None:
            keyword_tools = self._keyword_tools = _keyword_tools(worker.tools)
        for body in bodies:
            try:
                msg = decode(body)
            except UndecodableValue as exc:  # only this message's values are at fault
                self._undecodable(exc)
                continue
            mtype = msg.get("type")
            if mtype == "call":
                # Registered at once, so a cancel right behind it finds it.
                call = Call(msg, host)
                add(call)
                # invoke.resolve's common case, inlined: a tool of _keyword_tools whose arguments are all known
                # names, with none missing (anything else, or a value that could not be decoded: _call).
                entry = keyword_tools.get(call.tool) if not DECODED_PROBLEMS and not DECODED_REFS else None
                if entry is not None:
                    keys = call.args.keys()
                    if keys <= entry[1] and entry[2] <= keys:
                        call.func = entry[0]
                        call.plain = call.trace is None and not call.stream
                        batch.append(call)
                        continue
                self._call(call, batch)
            elif mtype in _TO_MAIN:
                batch.append(msg)
            else:
                route = routes.get(mtype) if isinstance(mtype, str) else None
                if route is None:
                    raise ProtocolError("unknown message type %r" % (mtype,))
                route(msg)
            if DECODED_REFS:  # references outside call arguments stay tokens
                del DECODED_REFS[:]
            if DECODED_PROBLEMS:
                del DECODED_PROBLEMS[:]
        return batch

    # ------------------------------------------------------------------------------------- routes

    def _call(self, call: Call, batch: list) -> None:
        # A call just registered (_route): checked here, so errors need no trip through the main thread; async
        # tools start here, so they never wait behind a sync one.
        worker = self.worker
        if DECODED_PROBLEMS:
            del DECODED_PROBLEMS[:]
            path, reason = find_bad(call.args, "args") or ("args", "a value could not be decoded")
            return self._refuse(call, path, reason)
        if not resolve(worker, call, flush=True):
            return  # answered: unknown tool or invalid arguments
        if DECODED_REFS and not self._resolve_refs(call):
            return  # answered: a reference this call may not use
        if call.is_async:
            start_async(worker, call)
        else:
            batch.append(call)

    def _refuse(self, call: Call, path: str, reason: str) -> None:
        # An argument that could not be decoded (a map key Python cannot hash, a malformed tag, nesting deeper
        # than the decoder reads): this call fails alone, the channel goes on (PROTOCOL.md section 6).
        message = "%s(): argument %s could not be decoded: %s" % (call.tool, path, reason)
        self.worker.answer(call, error=bridge_error("serialization", message, {
            "path": path, "python_type": "undecodable"}, type_name="SerializationError"), flush=True)

    def _undecodable(self, exc: UndecodableValue) -> None:
        mtype, msg_id = exc.mtype, exc.msg_id
        if mtype == "call" and isinstance(msg_id, int) and not isinstance(msg_id, bool):
            call = Call({"id": msg_id, "tool": "?"}, self.worker.host)
            self.worker.calls.add(call)
            return self._refuse(call, "args", exc.reason)
        if mtype in ("host_result", "host_error") and isinstance(msg_id, int):
            return self.worker.host.deliver({"type": "host_error", "id": msg_id, "error": {
                "name": "SerializationError", "message": "the host's answer could not be decoded: %s" % exc.reason,
                "code": "SNAKEPIT_SERIALIZATION"}})
        raise exc

    def _resolve_refs(self, call: Call) -> bool:
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

    def _withdraw(self, msg: dict) -> None:
        # The host takes back the calls it pipelined here that have not begun (this worker is busy with a long
        # one): they run on another worker. Those that began are left alone and answered as usual.
        ids = msg.get("ids")
        if isinstance(ids, list):
            given = self.worker.calls.withdraw(ids)
            if given:
                self.worker.conn.send({"type": "withdrawn", "ids": given})

    def _cancel(self, msg: dict) -> None:
        self.cancel(msg.get("id"), msg.get("reason") or "abort")

    def cancel(self, call_id: object, reason: str) -> None:
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
        elif state is RUNNING and kind is THREAD:  # the thread profile (threads.py)
            call.wake()  # a stream waiting for credit
            worker.host.wake(call)  # a host-tool wait
            if worker.threads is not None:
                worker.threads.interrupt(call)
        elif state is RUNNING:
            call.wake()  # a stream waiting for credit
            if not call.waiting_host:  # parked in Worker.pump_until, it checks the flag after this batch
                worker.interrupter.interrupt()

    def _on_eof(self) -> None:
        # The host is gone: nothing we send can arrive. Unwind what runs, and make sure the process ends
        # even if a tool ignores CallCancelled; the main thread stops when it handles EOF_MESSAGE.
        if self.eof:
            return
        self.eof = True
        self.worker.host_gone()  # waits inside calls (pump_until) stop
        # The process is on its way out, so throughput no longer matters but latency does: a tool spinning in
        # Python holds the GIL, and each of the syscalls below would wait a whole switch interval (5 ms) for it
        # back, which made unwinding a worker with a busy tool take seconds.
        sys.setswitchinterval(EOF_SWITCH_INTERVAL_S)
        worker = self.worker
        worker.conn.host_gone()  # first: the answers to the cancels below must not reach the ledger
        stop_own_tree()  # the adapter's own subprocesses go with us, wherever they are
        for call in worker.calls.open_calls():
            self.cancel(call.id, "shutdown")
        threading.Thread(target=_die_later, name="snakepit-eof", daemon=True).start()


def _keyword_tools(table: ToolTable | None) -> dict:
    """The tools whose calls ``_route`` resolves itself, by name: ``(func, names, required)`` of each sync tool
    method (not a stream, no call style) with nothing to check but the names of its arguments, when the adapter
    has no ``execute_tool`` and no attribute to set per call (``ToolTable.plain``); the bridge's own names are
    left to invoke.resolve. The table's tools do not change once the worker serves."""
    if table is None or not table.plain:
        return {}
    return {name: (tool.func, tool.names, tool.required) for name, tool in table.tools.items()
            if tool.names_only and not tool.streams and not tool.is_async and tool.style is None
            and name not in BUILTIN_NAMES}


def _nothing() -> None:
    pass


def _die_later() -> None:
    time.sleep(EOF_EXIT_GRACE_S)
    _die(0, None)


def _make_wait(fd: int, wake_fd: int, drain: Callable[[], None]) -> Callable[[float | None], bool]:
    """``wait(timeout) -> bool``: the channel is readable (False: timed out, or woken through the pipe)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.register(wake_fd, select.POLLIN)
        poll = poller.poll

        def wait(timeout: float | None) -> bool:
            ready = poll(None if timeout is None else max(0, math.ceil(timeout * 1000)))
            if len(ready) == 1 and ready[0][0] == fd:  # the common case
                return True
            readable = False
            for ready_fd, _ in ready:
                if ready_fd == fd:
                    readable = True  # POLLHUP / POLLERR too: the read reports them
                else:
                    drain()
            return readable
    else:  # no poll(2): select(2) does the same for two descriptors
        def wait(timeout: float | None) -> bool:
            ready = select.select([fd, wake_fd], [], [], timeout)[0]
            if wake_fd in ready:
                drain()
            return fd in ready
    return wait


def _die(code: int, message: str | None) -> NoReturn:
    # The reader's exits leave the process group alone, as they always have: end of file has stopped it already
    # (_on_eof), and the host stops the group of a worker that broke the protocol.
    leave(code, message, stop_group=False)
    raise SystemExit(code)  # not reached: leave() ends the process
