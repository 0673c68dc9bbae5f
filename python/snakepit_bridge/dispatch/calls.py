"""Call records and the table of open calls, shared by the reader, main and event-loop threads.

A call moves QUEUED -> RUNNING -> DONE. ``start()`` is the single step that either starts a call or
honours a cancel that came first (CPython's ``set_running_or_notify_cancel``), under the table's lock, as
are ``cancel`` and ``withdraw``. ``finish()`` succeeds once per call, so every call gets exactly one
terminal frame whichever thread gets there first: the winner is whoever removes the call from the table,
one ``dict.pop`` (atomic in CPython, with or without the GIL), so answering takes no lock. ``add()`` is one
``dict.setdefault`` for the same reason. Each call then takes the lock once, in ``start()``.
"""

from __future__ import annotations

import threading
import time

from ..channel.framing import ProtocolError
from ..session_context import SessionContext, correlation_id_of

__all__ = ["Call", "CallTable", "QUEUED", "RUNNING", "DONE", "SYNC", "ASYNC", "THREAD"]

QUEUED, RUNNING, DONE = "queued", "running", "done"
SYNC, ASYNC = "sync", "async"  # where a running call executes: the main thread, or the event loop
THREAD = "thread"  # or, in the thread profile, a pool thread (threads.py)

UNLIMITED_CREDIT = 1 << 62


class Call:
    """One ``call`` frame and its progress. Fields written by one thread, read by the others."""

    __slots__ = (
        "id", "tool", "args", "session", "deadline", "stream", "trace", "correlation_id",
        "state", "kind", "cancel_reason", "waiting_host", "task", "loop",
        "granted", "spent", "cond", "wake_async", "_context", "client", "func", "is_async",
        "style", "sender", "span", "graceful", "slot", "plain",
    )

    def __init__(self, msg: dict, client=None) -> None:
        # Runs for every call frame: ``msg.get`` bound once, and the optional fields read only when the
        # frame has more than the ones every call has (``fields`` counts those).
        get = msg.get
        call_id, tool, args = get("id"), get("tool"), get("args")
        if call_id is None or tool is None:
            raise ProtocolError("call frame without %r" % ("id" if call_id is None else "tool"))
        fields = 3 if "type" in msg else 2  # id, tool, and type when the frame names it
        if args is None:
            args = {}
        else:
            fields += 1
        if not isinstance(call_id, int) or not isinstance(tool, str) or not isinstance(args, dict):
            raise ProtocolError("malformed call frame: id %r, tool %r" % (call_id, tool))
        self.id = call_id
        self.tool = tool
        self.args = args
        timeout_ms = get("timeout_ms")
        if timeout_ms is None:
            self.deadline = None
        elif type(timeout_ms) in (int, float):
            self.deadline = time.monotonic() + timeout_ms / 1000.0
            fields += 1
        else:
            raise ProtocolError("call %r: timeout_ms must be a number, got %r" % (call_id, timeout_ms))
        slot = self.slot = get("slot")  # where to record that it began, in the ledger (ledger.py)
        if slot is not None:
            fields += 1
        self.state = QUEUED
        self.kind = None
        self.cancel_reason = None  # set once, by the reader, when the host cancels
        self.waiting_host = False  # parked in call_host_tool: wake it through the queue, not a signal
        self.task = None  # the asyncio.Task of an async call
        self.loop = None  # the event loop of an async stream (for credit wake-ups)
        # Stream credit: ``granted`` is written only by the reader, ``spent`` only by the producer,
        # so neither update can be lost; ``cond`` lets a sync producer sleep until more is granted.
        self.granted = UNLIMITED_CREDIT
        self.cond = None
        self.spent = 0
        self.wake_async = None  # callable run on the loop when credit arrives or the call is cancelled
        self._context = None
        self.client = client
        self.func = None  # set by invoke.resolve(): the tool method, or the adapter's execute_tool
        self.is_async = False
        self.style = None  # the tool's call style (tools.call_style), set by invoke.resolve()
        self.sender = None  # the StreamSender of a tool that pushes its chunks
        self.span = None  # its OpenTelemetry span, while traced (tracing.py)
        # Set by the reader (or invoke.resolve): a sync tool taking its arguments as keywords, not a stream, not
        # traced, so the main loop runs it inline (Worker._run_batch: no layer for what this call does not use).
        self.plain = False
        if len(msg) == fields:  # the usual call: none of the fields below
            self.session = self.trace = self.correlation_id = self.graceful = None
            self.stream = False
            return
        self.session = get("session")
        self.trace = get("trace")
        self.correlation_id = get("correlation_id")
        graceful = get("graceful")  # values with no form become markers (PROTOCOL.md section 3.1)
        self.graceful = graceful if isinstance(graceful, dict) else None
        if get("stream"):
            self.stream = True
            window = get("window")
            if isinstance(window, int):
                self.granted = window
            self.cond = threading.Condition()
        else:
            self.stream = False

    @property
    def context(self) -> SessionContext:
        """The call's SessionContext, built on first use (most tools never ask)."""
        ctx = self._context
        if ctx is None:
            meta = {"tool": self.tool}
            cid = correlation_id_of(self)
            if cid is not None:
                meta["correlation_id"] = cid
            if self.trace is not None:
                meta["trace"] = self.trace
            ctx = SessionContext(self.session, meta, self.deadline, self.id, client=self.client)
            self._context = ctx
        return ctx

    def add_credit(self, n: int) -> None:
        """Reader thread: the host allows ``n`` more chunks."""
        with self.cond:
            self.granted += n
            self.cond.notify_all()
        self._poke_loop()

    def wake(self) -> None:
        """Reader thread: wake a producer waiting for credit (after a cancel)."""
        if self.cond is not None:
            with self.cond:
                self.cond.notify_all()
        self._poke_loop()

    def _poke_loop(self) -> None:
        loop, wake = self.loop, self.wake_async
        if loop is not None and wake is not None:
            try:
                loop.call_soon_threadsafe(wake)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

    def release(self) -> None:
        """Drop references to arguments and results once the call is answered."""
        self.args = None
        self.task = None
        self.func = None
        self._context = None
        self.sender = None


class CallTable:
    """The open calls of this channel, by id.

    With a ledger (ledger.py), ``start`` records in the call's slot that it began, before any of its code
    runs: after a crash, the host runs elsewhere every call whose slot does not say so.
    """

    def __init__(self, ledger=None) -> None:
        self._calls = {}
        self._lock = threading.Lock()
        self._begun = ledger.begun if ledger is not None else None

    def __len__(self) -> int:
        return len(self._calls)

    def get(self, call_id):
        return self._calls.get(call_id)

    def add(self, call: Call) -> None:
        """Reader thread: register a call as it arrives, so a cancel right behind it finds it."""
        if self._calls.setdefault(call.id, call) is not call:  # one atomic step: no lock needed
            raise ProtocolError("call id %r is already open" % (call.id,))

    def start(self, call: Call, kind: str) -> bool:
        """Main thread: QUEUED -> RUNNING on ``kind``.

        False if the call was cancelled while queued (the reader answers it) or already answered.
        """
        with self._lock:
            if call.state is not QUEUED or call.cancel_reason is not None:
                return False
            call.state = RUNNING
            call.kind = kind
            slot = call.slot
            if slot is not None and self._begun is not None:
                try:
                    self._begun[slot] = call.id
                except (IndexError, TypeError):  # a slot outside the ledger: nothing is recorded for this call
                    pass
            return True

    def move_to_loop(self, call: Call) -> None:
        """A sync call whose tool returned a coroutine: from now on a cancel goes to its task."""
        with self._lock:
            call.kind = ASYNC

    def finish(self, call: Call) -> bool:
        """Any thread: -> DONE. True only for the first caller, who then sends the terminal frame.

        Whoever takes the call out of the table wins (``withdraw`` takes it out too). A call is in the
        table from ``add`` on, and every call is added before anything can answer it. A call already done
        does not touch the table: its id may belong to a newer call by now (a host may reuse an id once
        its call has ended); should one slip through in the instant before ``state`` is set, the newer
        call is put back.
        """
        if call.state is DONE:
            return False
        found = self._calls.pop(call.id, None)
        if found is not call:
            if found is not None:
                self._calls.setdefault(found.id, found)
            return False
        call.state = DONE
        return True

    def cancel(self, call_id, reason: str):
        """Reader thread: mark a call cancelled. Returns ``(call, state, kind)``, or None if not open."""
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.cancel_reason is not None:
                return None
            call.cancel_reason = reason
            return call, call.state, call.kind

    def withdraw(self, ids) -> list:
        """Reader thread: give back the calls among ``ids`` that have not begun (they will run elsewhere).

        Returns their ids; each such call is done here (the main thread skips it), without a terminal frame:
        the ``withdrawn`` frame listing it takes that frame's place.
        """
        given = []
        with self._lock:
            for call_id in ids:
                call = self._calls.get(call_id)
                # pop: not finished meanwhile (finish takes no lock)
                if call is not None and call.state is QUEUED and call.cancel_reason is None \
                        and self._calls.pop(call_id, None) is call:
                    call.state = DONE
                    given.append(call_id)
        return given

    def open_calls(self) -> list:
        with self._lock:
            return list(self._calls.values())
