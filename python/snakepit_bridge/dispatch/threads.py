"""The thread profile: sync calls run on a pool of threads, several at once (docs/PROFILES.md).

The host sends a thread worker at most ``threads`` calls at once (its capacity), so a thread is free for each
call it sends. The pool keeps up to ``threads`` threads, started as calls first need them; a call that finds
none idle gets a thread of its own, which leaves when it is done. That only happens for a call the host sends
beyond the capacity on purpose: a call made by a host tool while its parent waits here (a nested call), which
would deadlock if it had to wait for a free thread.

The main thread keeps the read role (``read_role.py``), hands each sync call to a thread and goes back to
reading at once; ``release``, ``session_end`` and ``shutdown`` still run on it, in arrival order. Async tools
keep running on the event loop. Each thread answers its own calls and sends what it buffered.

Cancelling a call that runs on a thread: the reader flags it, wakes it if it waits for credit or a host tool,
and asks CPython to raise ``CallCancelled`` in that thread (``PyThreadState_SetAsyncExc``) while the call's own
code runs, never in the bridge's (the same arming rule as the main thread's ``interrupt.py``). The exception is
raised at the thread's next Python instruction: a tool blocked in one long C call (``time.sleep``, a socket read)
sees it when that call returns. The host replaces a worker that leaves a cancel unanswered for 5 s.
"""

from __future__ import annotations

import queue as queue_module
import threading

from ..errors import CallCancelled
from .calls import THREAD
from .invoke import run_call

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers only: the worker does not import typing at start
    from .worker_api import WorkerApi

__all__ = ["ThreadRunner", "ThreadInterrupter", "current_interrupter"]

_local = threading.local()


def current_interrupter():
    """The ThreadInterrupter of the pool thread running this code, or None on any other thread."""
    return getattr(_local, "interrupter", None)


def _async_raiser():
    # CPython's way to raise an exception in another thread; None where there is none (the call is then
    # cancelled only where it checks: credit and host-tool waits).
    try:
        import ctypes

        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
        set_async_exc.restype = ctypes.c_int
    except (ImportError, AttributeError):
        return None

    def raise_in(ident: int, exc_type) -> None:
        # None withdraws a pending one: it must reach C as NULL, so no argtypes (which would pass Py_None)
        set_async_exc(ctypes.c_ulong(ident), None if exc_type is None else ctypes.py_object(exc_type))

    return raise_in


class ThreadInterrupter:
    """Arms and disarms cancellation of the call running on one pool thread (``interrupt.Interrupter``'s API)."""

    budget = None  # limits.cpuSeconds is per process: refused for the thread profile by the host

    def __init__(self, raise_in) -> None:
        self.ident = threading.get_ident()
        self.call = None
        self.armed = False
        self._pending = False  # an exception was asked for and may not have been raised yet
        self._lock = threading.Lock()
        self._raise_in = raise_in

    def enter(self, call) -> None:
        """About to run user code of ``call``: arm, or raise at once if it is already cancelled."""
        with self._lock:
            self.call = call
            self.armed = True
        if call.cancel_reason is not None:
            self._disarm()
            raise CallCancelled(call.cancel_reason)

    def leave(self) -> None:
        """User code returned (or raised): disarm, and withdraw an exception asked for but not yet raised."""
        self._disarm()
        self.call = None

    def interrupt(self, call) -> None:
        """The reading thread: raise CallCancelled in this thread if it still runs ``call``'s code."""
        if self._raise_in is None:
            return
        with self._lock:
            if self.armed and self.call is call and not self._pending:
                self._pending = True
                self._raise_in(self.ident, CallCancelled)

    def suspend(self):
        """Disarm while bridge code runs in the middle of a call (a host-tool wait); see ``resume``."""
        saved = (self.call, self.armed)
        self._disarm()
        return saved

    def resume(self, saved) -> None:
        """Back to the suspended call's user code: re-arm and honour a cancel that came meanwhile."""
        call, armed = saved
        with self._lock:
            self.call = call
            self.armed = armed
        if armed and call is not None and call.cancel_reason is not None:
            self._disarm()
            raise CallCancelled(call.cancel_reason)

    def _disarm(self) -> None:
        # The exception asked for may be raised right here, in this thread, before the lock is taken: it is
        # the call's cancel arriving late, and the call is answered as cancelled anyway; so try again.
        while True:
            try:
                with self._lock:
                    self.armed = False
                    if self._pending:
                        self._pending = False
                        if self._raise_in is not None:
                            self._raise_in(self.ident, None)  # withdraw it if still pending
                return
            except CallCancelled:
                continue


class ThreadRunner:
    """A worker's pool of threads for sync calls (the thread profile).

    ``serial``: the adapter declared ``__thread_safe__ = False``; its sync calls run one at a time (each
    thread waits for the others before it starts its call), while async tools still overlap.
    """

    def __init__(self, worker: WorkerApi, threads: int, serial: bool = False) -> None:
        self.worker = worker
        self.size = threads
        self.serial = threading.Lock() if serial else None
        self._lock = threading.Lock()
        self._threads = 0  # threads alive
        self._idle = 0  # threads waiting on _work, each already promised to the next call put there
        self._work = queue_module.SimpleQueue()
        self._running = {}  # call id -> the ThreadInterrupter of the thread running it
        self._raise_in = _async_raiser()
        self._names = 0

    def submit(self, call) -> None:
        """The main thread: run ``call`` on an idle thread, or on a new one."""
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._work.put(call)
                return
            self._threads += 1
            self._names += 1
            name = "snakepit-thread-%d" % self._names
        threading.Thread(target=self._thread, args=(call,), name=name, daemon=True).start()

    def interrupt(self, call) -> None:
        """The reading thread: a running call was cancelled."""
        interrupter = self._running.get(call.id)
        if interrupter is not None:
            interrupter.interrupt(call)

    @property
    def busy(self) -> int:
        """Calls running on threads now."""
        return len(self._running)

    def _thread(self, call) -> None:
        interrupter = _local.interrupter = ThreadInterrupter(self._raise_in)
        while True:
            self._run(call, interrupter)
            call = None
            with self._lock:
                if self._threads > self.size:  # a thread beyond the pool's size (a nested call): leave
                    self._threads -= 1
                    return
                self._idle += 1
            call = self._work.get()

    def _run(self, call, interrupter) -> None:
        worker = self.worker
        self._running[call.id] = interrupter
        try:
            if self.serial is None:
                run_call(worker, call, THREAD, interrupter)
            else:
                with self.serial:
                    run_call(worker, call, THREAD, interrupter)
        except SystemExit as exc:  # sys.exit() in a tool ends the process, from the main thread
            worker.request_exit(exc.code)
        except CallCancelled:  # cancelled between calls: the call was answered already
            pass
        finally:
            self._running.pop(call.id, None)
            worker.conn.flush()
