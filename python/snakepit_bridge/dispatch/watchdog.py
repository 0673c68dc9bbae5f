"""The watchdog thread: reads the channel only while the main thread is stuck in a long call.

It costs a short call nothing: the main thread records when it started a message (``Worker.busy_since``, a
plain attribute) and the watchdog looks now and then (every ``IDLE_POLL_S`` while the main thread is idle,
at ``TAKEOVER_S`` into a call while it is busy). Once one call has run for ``TAKEOVER_S`` it takes the read
role (``read_role.py``) and reads, so ``ping``, ``cancel`` (SIGUSR1 to the main thread), ``credit``, host
answers and async calls are served while the tool goes on; what the main thread must handle (sync calls,
``release``, ``session_end``, ``shutdown``) goes into ``Worker.queue``, in order. It lets go as soon as the
main thread asks for the role back (``ReadRole.take_for_main`` wakes its poll through the pipe).

It also sends what the main thread left in the outbox (the answers of the calls before the long one in its
batch): the main thread does not arm the connection's flusher for each call, since waking a thread per batch
costs more than the flusher saves; a long call's neighbours wait about ``TAKEOVER_S`` instead of
``connection.FLUSH_DELAY_S``. Streams still arm the flusher for each chunk.

A long call thus gets a reader within about ``IDLE_POLL_S + TAKEOVER_S``.
"""

from __future__ import annotations

import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers only: the worker does not import typing at start
    from .read_role import ReadRole
    from .worker_api import ReaderApi, WorkerApi

__all__ = ["Watchdog", "TAKEOVER_S", "IDLE_POLL_S", "READ_TIMEOUT_S"]

TAKEOVER_S = 0.003  # a call busy this long gets the watchdog reading
IDLE_POLL_S = 0.02  # how often the watchdog looks while the main thread is idle
MIN_POLL_S = 0.001  # the shortest sleep while the main thread is busy
READ_TIMEOUT_S = 0.005  # between reads, flush what the main thread buffered (it wakes our poll for the role)


class Watchdog:
    """Owns the watchdog thread (started by ``Reader.start``)."""

    def __init__(self, worker: WorkerApi, reader: ReaderApi) -> None:
        self.worker = worker
        self.reader = reader
        self.thread = threading.Thread(target=self.run, name="snakepit-watchdog", daemon=True)

    def run(self) -> None:
        worker, reader, role = self.worker, self.reader, self.worker.role
        monotonic, sleep = time.monotonic, time.sleep
        while not reader.eof:
            since = worker.busy_since
            if since is None:
                sleep(IDLE_POLL_S)
                continue
            wait = since + TAKEOVER_S - monotonic()
            if wait > 0:  # wake up when this call would have run TAKEOVER_S (a new one restarts the clock)
                sleep(wait if wait > MIN_POLL_S else MIN_POLL_S)
                continue
            if worker.busy_since is since and role.try_take_for_watchdog():
                try:
                    self._read(worker, reader, role)
                finally:
                    role.release_watchdog()
            else:  # the call ended meanwhile, or the main thread holds the role
                sleep(MIN_POLL_S)

    @staticmethod
    def _read(worker: WorkerApi, reader: ReaderApi, role: ReadRole) -> None:
        put, read_once, flush = worker.queue.put, reader.read_once, worker.conn.flush
        while not role.main_wants and not reader.eof:
            flush()  # answers buffered before the long call (also after each later one: a backlog)
            batch = read_once(READ_TIMEOUT_S)
            if batch:
                role.handed += len(batch)
                put(batch)
            del batch
