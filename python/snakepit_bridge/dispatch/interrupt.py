"""Cancelling a sync tool that is running on the main thread.

The reader thread sends SIGUSR1 to the main thread (``signal.pthread_kill``). That interrupts blocking
system calls such as ``time.sleep``, and Python runs our handler in the main thread at its next
instruction. The handler raises ``CallCancelled`` only while user code of the cancelled call runs
(``armed``), so bridge code is never interrupted; it disarms itself before raising, so it raises at most
once per entry. Every place that arms re-checks the cancel flag right after arming: a cancel that
arrived while we were disarmed is honoured there instead of by the signal.

The same arming serves ``limits.cpuSeconds`` (``limits.CpuBudget``): entering a call re-arms its CPU budget,
and the kernel's SIGXCPU raises ``CpuLimitExceeded`` under the same rule — only in the call's own code.
"""

from __future__ import annotations

import _signal as signal  # the C module under signal.py, which builds its enums (~2 ms of a cold start)
import threading

from ..errors import CallCancelled
from .limits import CpuLimitExceeded

__all__ = ["Interrupter"]

_SIGNAL = getattr(signal, "SIGUSR1", None)


class Interrupter:
    """Arms and disarms cancellation of the main thread's current call."""

    def __init__(self) -> None:
        self.call = None
        self.armed = False
        self.main_ident = threading.main_thread().ident
        self.budget = None  # limits.CpuBudget when the pool has limits.cpuSeconds

    def install(self) -> None:
        """Install the signal handlers (must run on the main thread)."""
        if _SIGNAL is not None:
            signal.signal(_SIGNAL, self._on_signal)
        if self.budget is not None:
            self.budget.install(self._on_cpu_limit)

    def _on_signal(self, signum, frame) -> None:
        call = self.call
        if self.armed and call is not None and call.cancel_reason is not None:
            self.armed = False
            raise CallCancelled(call.cancel_reason)

    def _on_cpu_limit(self, signum, frame) -> None:
        call = self.call
        if self.armed and call is not None and call is self.budget.call:
            self.armed = False
            raise CpuLimitExceeded("the call used more than its %d s of CPU time (limits.cpuSeconds)"
                                   % self.budget.seconds)

    def interrupt(self) -> None:
        """Reader thread: poke the main thread; the handler decides whether to raise."""
        if _SIGNAL is not None:
            try:
                signal.pthread_kill(self.main_ident, _SIGNAL)
            except (OSError, ValueError):  # the main thread is gone: we are exiting anyway
                pass

    def enter(self, call) -> None:
        """About to run user code of ``call``: arm, or raise at once if it is already cancelled."""
        self.call = call
        self.armed = True
        if self.budget is not None:
            self.budget.start(call)
        if call.cancel_reason is not None:
            self.armed = False
            raise CallCancelled(call.cancel_reason)

    def leave(self) -> None:
        """User code returned (or raised): disarm."""
        self.armed = False
        self.call = None

    def suspend(self):
        """Disarm while bridge code runs in the middle of a call (a host-tool wait); see ``resume``."""
        saved = (self.call, self.armed)
        self.armed = False
        return saved

    def resume(self, saved) -> None:
        """Back to the suspended call's user code: re-arm and honour a cancel that came meanwhile."""
        call, armed = saved
        self.call = call
        self.armed = armed
        if armed and call is not None and call.cancel_reason is not None:
            self.armed = False
            raise CallCancelled(call.cancel_reason)
