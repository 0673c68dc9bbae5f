"""Who reads the channel: the read *role*, held by one thread at a time.

Reading is a role, not a thread, so that a short call never crosses threads (on a small machine a thread
wake-up costs tens of microseconds, more than the call itself):

- the **main** thread holds it whenever it has nothing to do: it reads a batch (``Reader.read_once``),
  lets go, and runs the sync calls it got inline, in order;
- the **watchdog** thread (``watchdog.py``) takes it only while the main thread has been busy in one call
  for more than ``watchdog.TAKEOVER_S``, so that ``ping``, ``cancel``, ``credit``, host answers and async
  calls are still served; what the main thread must handle goes into ``Worker.queue``;
- when the main thread wants it back it says so (``main_wants``), nudges the watchdog's poll through the
  wake-up pipe and waits; the watchdog lets go at once.

The wake-up pipe is in every poll of the channel. Besides that hand-back it is written only when another
thread gives the main thread work while it may be blocked reading (``Worker.post``): never per call.
"""

from __future__ import annotations

import os
import threading

__all__ = ["ReadRole", "MAIN", "WATCHDOG"]

MAIN, WATCHDOG = "main", "watchdog"


class ReadRole:
    """The read role's holder, and the wake-up pipe of whoever polls the channel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.holder: str | None = None  # MAIN, WATCHDOG or None
        self.main_wants = False  # the main thread waits for the watchdog to let go
        self.takeovers = 0  # how often the watchdog took the role (diagnostics and tests)
        self.handbacks = 0  # how often the main thread had to ask for it back
        self.handed = 0  # messages the watchdog read and queued for the main thread
        self.spins = 0  # how often the main thread polled after lone calls before blocking (Worker.spin_s)
        self.wake_fd, self._wake_w = os.pipe()  # close-on-exec already (PEP 446)
        os.set_blocking(self.wake_fd, False)
        os.set_blocking(self._wake_w, False)

    # ------------------------------------------------------------------------------ main thread

    def take_for_main(self) -> None:
        """Take the role; if the watchdog holds it, ask for it back and wait until it lets go."""
        with self._lock:
            if self.holder is None:  # the common case: nobody else reads
                self.holder = MAIN
                return
            self.main_wants = True
            self.handbacks += 1
            self.wake()  # its poll returns now instead of at its timeout
            while self.holder is not None:
                self._cond.wait()
            self.main_wants = False
            self.holder = MAIN

    def release_main(self) -> None:
        with self._lock:
            self.holder = None

    # -------------------------------------------------------------------------- watchdog thread

    def try_take_for_watchdog(self) -> bool:
        """Take the role if nobody holds it and the main thread does not want it."""
        with self._lock:
            if self.holder is not None or self.main_wants:
                return False
            self.holder = WATCHDOG
            self.takeovers += 1
            return True

    def release_watchdog(self) -> None:
        with self._lock:
            self.holder = None
            self._cond.notify_all()

    # ------------------------------------------------------------------------------ the pipe

    def wake(self) -> None:
        """Make the poll of whoever reads return now (any thread)."""
        try:
            os.write(self._wake_w, b"\0")
        except OSError:  # full (a wake-up is pending anyway) or closed (exiting)
            pass

    def drain(self) -> None:
        """The reader saw the pipe readable: empty it (the wake-up has done its job)."""
        try:
            while os.read(self.wake_fd, 512):
                pass
        except OSError:  # EAGAIN: empty
            pass

    def stats(self) -> dict:
        return {"holder": self.holder, "takeovers": self.takeovers, "handbacks": self.handbacks,
                "handed": self.handed, "spins": self.spins}
