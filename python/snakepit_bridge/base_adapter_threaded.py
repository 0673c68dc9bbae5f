"""Helpers for adapters that run in the thread profile (docs/PROFILES.md), with the names Snakepit uses.

    from snakepit_bridge.base_adapter_threaded import ThreadSafeAdapter, thread_safe_method, tool

    class Counter(ThreadSafeAdapter):
        __thread_safe__ = True          # the declaration a thread worker requires

        def __init__(self):
            super().__init__()
            self.count = 0              # shared and mutable: only under the lock

        @thread_safe_method
        @tool
        def increment(self) -> int:
            with self.acquire_lock():
                self.count += 1
                return self.count

Three patterns keep a tool safe on several threads: state that is read-only after ``initialize``; state of one
thread (``get_thread_local`` / ``set_thread_local``: caches, connections, sessions of libraries that are not
thread-safe); and shared mutable state changed only under ``acquire_lock()`` (an ``RLock``), held as briefly as
possible. ``ThreadSafeAdapter`` does not declare ``__thread_safe__`` itself: a subclass says so once it is safe.
"""

from __future__ import annotations

import functools
import threading

from .base_adapter import BaseAdapter, tool
from .thread_safety_checker import ThreadSafetyChecker

__all__ = ["ThreadSafeAdapter", "thread_safe_method", "tool"]


class ThreadSafeAdapter(BaseAdapter):
    """A BaseAdapter with a reentrant lock, per-thread storage and call counters for the thread profile."""

    def __init__(self) -> None:
        super().__init__()
        self._ts_lock = threading.RLock()
        self._ts_local = threading.local()
        self._ts_stats_lock = threading.Lock()
        self._ts_active = 0
        self._ts_peak = 0
        self._ts_total = 0

    def acquire_lock(self):
        """The adapter's reentrant lock, as a context manager: ``with self.acquire_lock(): ...``."""
        return self._ts_lock

    def get_thread_local(self, key: str, default=None):
        """This thread's value for ``key``; ``default`` (stored for this thread) when it has none yet."""
        local = self._ts_local.__dict__
        if key not in local:
            local[key] = default
        return local[key]

    def set_thread_local(self, key: str, value) -> None:
        """Set this thread's value for ``key`` (other threads do not see it)."""
        self._ts_local.__dict__[key] = value

    def get_stats_dict(self) -> dict:
        """Calls of ``@thread_safe_method`` methods: ``{"active", "max_concurrent", "total"}``."""
        with self._ts_stats_lock:
            return {"active": self._ts_active, "max_concurrent": self._ts_peak, "total": self._ts_total}

    def _ts_enter(self) -> None:
        with self._ts_stats_lock:
            self._ts_active += 1
            self._ts_total += 1
            if self._ts_active > self._ts_peak:
                self._ts_peak = self._ts_active

    def _ts_leave(self) -> None:
        with self._ts_stats_lock:
            self._ts_active -= 1


def thread_safe_method(func):
    """Mark a method as written to run on several threads at once, and count its calls.

    Counts go to ``ThreadSafeAdapter.get_stats_dict`` and, while a ``ThreadSafetyChecker`` is enabled, to its
    report (which flags overlapping calls on adapters that do not declare ``__thread_safe__ = True``). Order
    with ``@tool`` does not matter: the tool's metadata is kept.
    """
    name = getattr(func, "__name__", "method")

    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        counts = isinstance(self, ThreadSafeAdapter)
        checker = ThreadSafetyChecker.active()
        if checker is not None:
            checker.enter(self, name)
        if counts:
            self._ts_enter()
        try:
            return func(self, *args, **kwargs)
        finally:
            if counts:
                self._ts_leave()
            if checker is not None:
                checker.leave(name)

    wrapper.__thread_safe_method__ = True
    return wrapper
