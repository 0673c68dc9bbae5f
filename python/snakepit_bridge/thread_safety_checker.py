"""Thread safety for the thread profile: what an adapter declares, libraries known to need care, and a
checker that records concurrent use of tracked methods (docs/PROFILES.md).

The declaration: a class attribute ``__thread_safe__``. ``True``: its sync tools may run on several threads at
once. ``False``: they may not, and a thread worker runs them one at a time. Absent: a thread worker refuses to
start, since nothing says either.

The library table is a starting point, not a verdict: it says which libraries keep global or per-object state
that concurrent calls can corrupt unless the adapter keeps objects apart or locks. A thread worker warns (on its
stderr, which becomes a host log line) about each one that is loaded when it starts.
"""

from __future__ import annotations

import sys
import threading

__all__ = [
    "LIBRARIES", "ThreadSafetyChecker", "ThreadSafetyError", "adapter_thread_safety", "check_library",
    "unsafe_libraries_loaded", "warn_unsafe_libraries",
]


class ThreadSafetyError(RuntimeError):
    """The thread profile cannot run this adapter (it does not declare ``__thread_safe__``)."""


# name -> (safe for concurrent calls as commonly used, what to do). "Safe" means: calls on separate objects, or
# reads of shared immutable ones, need no lock; it never means one mutable object may be changed from two threads.
LIBRARIES = {
    "numpy": (True, "releases the GIL in most array operations; do not write one array from two threads"),
    "scipy": (True, "numerical routines release the GIL; same rule as numpy for shared arrays"),
    "torch": (True, "releases the GIL in tensor ops; size its pool with torch.set_num_threads"),
    "tensorflow": (True, "size its pools with tf.config.threading"),
    "sklearn": (True, "fitting one estimator from two threads is not; predict on a fitted one is; n_jobs=1"),
    "polars": (True, "DataFrames are immutable; the engine runs its own thread pool"),
    "pyarrow": (True, "arrays and tables are immutable"),
    "httpx": (True, "a Client may be shared between threads"),
    "requests": (False, "a Session is not guaranteed thread-safe: one Session per thread (get_thread_local)"),
    "pandas": (False, "DataFrame and Series are not thread-safe: a shared object must be locked, or "
                      "copied per call; keep DataFrames per call or per thread"),
    "matplotlib": (False, "pyplot keeps one global current figure: use Figure objects per call, or lock"),
    "sqlite3": (False, "a connection refuses other threads by default (check_same_thread): one connection "
                       "per thread (get_thread_local)"),
}


def check_library(name: str):
    """``(safe, note)`` for a library in the table, or None for one it does not know."""
    return LIBRARIES.get(name)


def unsafe_libraries_loaded(modules=None) -> list:
    """Names of the table's not-thread-safe libraries imported in this process (``modules``: ``sys.modules``)."""
    loaded = sys.modules if modules is None else modules
    return [name for name, (safe, _) in LIBRARIES.items() if not safe and name in loaded]


def warn_unsafe_libraries(modules=None, out=None) -> list:
    """Write one warning line per not-thread-safe library loaded (a thread worker's start). Returns the names."""
    names = unsafe_libraries_loaded(modules)
    stream = sys.stderr if out is None else out
    for name in names:
        stream.write("snakepit_bridge: profile \"thread\": %s is loaded and is not thread-safe: %s\n"
                     % (name, LIBRARIES[name][1]))
    return names


def adapter_thread_safety(adapter):
    """What ``adapter`` (an instance or class) declares: True, False, or None when it declares nothing.

    A wrapper may answer for what it wraps with a ``thread_safety()`` method (the generic adapter does).
    """
    answer = getattr(adapter, "thread_safety", None)
    if callable(answer):
        declared = answer()
    else:
        declared = getattr(adapter, "__thread_safe__", None)
    return declared if isinstance(declared, bool) else None


class ThreadSafetyChecker:
    """Records how tracked methods (``@thread_safe_method``) are used at once, for tests and debugging.

    ``enabled``: record at all (off costs one attribute read per call). ``strict_mode``: a method of an adapter
    that does not declare ``__thread_safe__ = True``, entered while another thread is inside it, raises
    ``ThreadSafetyError`` instead of only being reported.
    """

    _active = None  # the checker that @thread_safe_method reports to

    def __init__(self, enabled: bool = True, strict_mode: bool = False) -> None:
        self.enabled = enabled
        self.strict_mode = strict_mode
        self._lock = threading.Lock()
        self._inside = {}  # method name -> threads inside it now
        self._peak = {}  # method name -> most threads inside it at once
        self._threads = {}  # method name -> ids of the threads that ran it
        self._warnings = []
        if enabled:
            ThreadSafetyChecker._active = self

    @classmethod
    def active(cls):
        return cls._active

    def close(self) -> None:
        """Stop recording (the decorator reports to no checker)."""
        if ThreadSafetyChecker._active is self:
            ThreadSafetyChecker._active = None

    def enter(self, owner, name: str) -> None:
        declared = adapter_thread_safety(owner)
        with self._lock:
            inside = self._inside.get(name, 0) + 1
            self._inside[name] = inside
            if inside > self._peak.get(name, 0):
                self._peak[name] = inside
            self._threads.setdefault(name, set()).add(threading.get_ident())
            overlap = inside > 1 and declared is not True
            if overlap:
                self._warnings.append("method %r ran on %d threads at once in %s, which does not declare "
                                      "__thread_safe__ = True" % (name, inside, type(owner).__name__))
        if overlap and self.strict_mode:
            self.leave(name)
            raise ThreadSafetyError(self._warnings[-1])

    def leave(self, name: str) -> None:
        with self._lock:
            self._inside[name] = self._inside.get(name, 1) - 1

    def get_report(self) -> dict:
        """``{"methods": {name: {"max_concurrent", "threads"}}, "unsafe_libraries": [...], "warnings": [...]}``."""
        with self._lock:
            methods = {name: {"max_concurrent": self._peak.get(name, 0), "threads": len(threads)}
                       for name, threads in self._threads.items()}
            warnings = list(self._warnings)
        unsafe = unsafe_libraries_loaded()
        warnings += ["library %r is loaded and is not thread-safe: %s" % (n, LIBRARIES[n][1]) for n in unsafe]
        return {"methods": methods, "unsafe_libraries": unsafe, "warnings": warnings}
