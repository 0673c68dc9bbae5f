"""Python calling host tools: ``host_call`` out, ``host_result`` / ``host_error`` back.

Who waits, and how the thread that reads the channel hands over the answer:

- the main thread (a sync tool): it keeps serving the channel while it waits (``Worker.pump_until``), so
  calls that arrive meanwhile still run (a host tool may call back into this worker); whoever reads stores
  the answer, and the main thread checks for it after every batch (it reads itself, or waits for the role);
- a coroutine on the event loop (``acall_host_tool``): an asyncio future, resolved with
  ``call_soon_threadsafe``;
- any other thread: a ``threading.Event``.
"""

from __future__ import annotations

import itertools
import threading

from ..channel.framing import ProtocolError
from ..errors import CallCancelled, HostToolError, UnknownHostToolError
from ..session_context import LIST_TOOLS, current_call
from .worker_api import WorkerState

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers only: the worker does not import typing at start
    from .worker_api import WorkerApi

__all__ = ["HostCalls", "LIST_TOOLS"]

# A waiter gives up this long after the call's deadline, not at it: at the deadline the host cancels the call
# itself, and its caller must see that timeout, not this worker's own. The grace only matters when the host is
# unable to answer at all.
DEADLINE_GRACE_S = 0.25


class _Waiter:
    __slots__ = ("id", "reply", "event", "loop", "future", "main", "call")

    def __init__(self, hid: int, main: bool = False) -> None:
        self.id = hid
        self.reply = None
        self.main = main
        self.event = None if main else threading.Event()
        self.loop = None
        self.future = None
        self.call = None  # the call waiting, on a pool thread (thread profile): its cancel wakes the wait


def _result(name: str, reply: dict):
    if reply.get("type") == "host_result":
        return reply.get("value")
    err = reply.get("error")
    if not isinstance(err, dict):
        err = {}
    code = err.get("code") if isinstance(err.get("code"), str) else None
    cls = UnknownHostToolError if code == UnknownHostToolError.CODE else HostToolError
    message = err.get("message")
    raise cls(name, message if isinstance(message, str) else "host tool failed", code,
              err.get("name") if isinstance(err.get("name"), str) else None)


def _timeout_error(name: str) -> HostToolError:
    return HostToolError(name, "no answer before the call's deadline", "timeout", "TimeoutError")


class HostCalls:
    """Issues host calls and matches their answers. One per worker."""

    def __init__(self, worker: WorkerApi) -> None:
        self.worker = worker
        self._ids = itertools.count(1)
        self._ids_lock = threading.Lock()
        self.last_id = 0  # the highest id sent: an answer above it is a protocol error
        self._waiters = {}

    def _message(self, ctx, name: str, kwargs: dict):
        with self._ids_lock:  # tools on several threads may call at once; last_id must only grow
            hid = self.last_id = next(self._ids)
        msg = {"type": "host_call", "id": hid, "tool": name, "args": kwargs}
        if ctx.session_id is not None:
            msg["session"] = ctx.session_id
        if ctx.call_id is not None:
            msg["parent"] = ctx.call_id
        remaining = ctx.time_remaining()
        if remaining is not None:
            if remaining <= 0:
                raise _timeout_error(name)
            msg["timeout_ms"] = max(1, int(remaining * 1000))
        return hid, msg, remaining

    def call(self, ctx, name: str, kwargs: dict):
        """Blocking host call (``SessionContext.call_host_tool``)."""
        worker = self.worker
        if worker.state is WorkerState.STARTING:
            raise RuntimeError("host tools can be called once the worker is ready (from a tool)")
        hid, msg, remaining = self._message(ctx, name, kwargs)
        if remaining is not None:
            remaining += DEADLINE_GRACE_S
        main = threading.get_ident() == worker.interrupter.main_ident
        waiter = self._waiters[hid] = _Waiter(hid, main)
        try:
            worker.conn.send(msg)
            if main:
                worker.pump_until(lambda: waiter.reply is not None, remaining, run_nested=True,
                                  call=current_call.get())
                reply = waiter.reply
            else:
                reply = self._wait_off_main(waiter, remaining)
        finally:
            self._waiters.pop(hid, None)
        if reply is None:
            raise _timeout_error(name)
        return _result(name, reply)

    def _wait_off_main(self, waiter, remaining):
        # Any thread but the main one. On a pool thread (thread profile) the wait is bridge code: no cancel
        # exception is raised in it (the interrupter is suspended), and the call's cancel ends it instead.
        interrupter = None
        if self.worker.threads is not None:
            from .threads import current_interrupter

            interrupter = current_interrupter()
        if interrupter is None:
            waiter.event.wait(remaining)
            return waiter.reply
        waiter.call = call = interrupter.call
        saved = interrupter.suspend()
        waiter.event.wait(remaining)
        interrupter.resume(saved)  # raises CallCancelled if the call was cancelled meanwhile
        if waiter.reply is None and call is not None and call.cancel_reason is not None:
            raise CallCancelled(call.cancel_reason)
        return waiter.reply

    def wake(self, call) -> None:
        """The reading thread: ``call`` (on a pool thread) was cancelled; end its host-tool wait."""
        for waiter in list(self._waiters.values()):
            if waiter.call is call and waiter.event is not None:
                waiter.event.set()

    async def acall(self, ctx, name: str, kwargs: dict):
        """Awaitable host call (``SessionContext.acall_host_tool``), for async tools."""
        import asyncio  # loaded already: we are in a coroutine

        hid, msg, remaining = self._message(ctx, name, kwargs)
        if remaining is not None:
            remaining += DEADLINE_GRACE_S
        waiter = self._waiters[hid] = _Waiter(hid)
        loop = waiter.loop = asyncio.get_running_loop()
        waiter.future = loop.create_future()
        try:
            self.worker.conn.send(msg)
            reply = await asyncio.wait_for(waiter.future, remaining)
        except asyncio.TimeoutError:
            raise _timeout_error(name) from None
        finally:
            self._waiters.pop(hid, None)
        return _result(name, reply)

    def deliver(self, msg: dict) -> None:
        """The reading thread: hand a ``host_result`` / ``host_error`` to its waiter."""
        hid = msg.get("id")
        waiter = self._waiters.get(hid)
        if waiter is None:
            if not isinstance(hid, int) or hid > self.last_id or hid < 1:
                raise ProtocolError("%s for host call id %r, which was never sent" % (msg.get("type"), hid))
            return  # an answer that came after its waiter gave up (deadline): drop it
        waiter.reply = msg
        if waiter.main:
            return  # the main thread sees the reply after this batch (Worker.pump_until)
        if waiter.future is not None:
            waiter.loop.call_soon_threadsafe(_resolve, waiter.future, msg)
        else:
            waiter.event.set()


def _resolve(future, msg) -> None:
    if not future.done():
        future.set_result(msg)

