"""Hard limits on this worker, set before the adapter is imported (the host's ``limits`` config; docs/RELIABILITY.md,
"Limits"). The host passes them as ``SNAKEPIT_LIMITS=memory_mb=300,cpu_seconds=5,open_files=256``.

- ``memory_mb``: ``RLIMIT_DATA``, soft and hard. Since Linux 4.7 it counts every private writable mapping (the
  heap, ``mmap``'d arenas and large blocks, numpy's buffers, thread stacks), so the allocation that would cross
  it fails and Python raises ``MemoryError`` in the call that asked, before the memory is touched.
  ``RLIMIT_AS`` would be the wrong tool: it also counts address space that is only reserved (glibc keeps 64 MiB
  per thread arena, the libraries a numpy import maps) and fails far below the limit. What ``RLIMIT_DATA`` does
  not see — shared mappings, memory of subprocesses — the host's sampler watches (src/limits/memory-watch.ts).
- ``open_files``: ``RLIMIT_NOFILE``, soft and hard: one descriptor more is ``OSError`` (EMFILE).
- ``cpu_seconds``: a budget per call. When the main thread starts a call's code, the soft ``RLIMIT_CPU`` is made
  to leave it between ``cpu_seconds`` and ``cpu_seconds + 1`` of CPU time (whole seconds: ``CpuBudget``); the
  kernel sends ``SIGXCPU`` when it is passed, and the handler raises ``CpuLimitExceeded`` in that call (as a
  cancel does: only while its own code runs). The hard limit stays where it was, so the soft one can move again.

Subprocesses inherit all three, each for itself (rlimits are per process).
"""

from __future__ import annotations

import os
import _signal as signal  # the C module under signal.py, which builds its enums (~2 ms of a cold start)
import time

from ..errors import note_memory_limit

__all__ = ["CpuLimitExceeded", "CpuBudget", "apply_limits", "parse_limits", "ENV"]

ENV = "SNAKEPIT_LIMITS"
_MIB = 1024 * 1024


class CpuLimitExceeded(BaseException):
    """Raised inside a sync tool whose call used more CPU time than ``limits.cpuSeconds``.

    A ``BaseException``, like a cancel, so ``except Exception`` in a tool does not swallow it.
    """


def parse_limits(text: str) -> dict:
    """``"memory_mb=300,open_files=64"`` -> ``{"memory_mb": 300, "open_files": 64}``; unknown or malformed
    entries raise ValueError (the host writes this variable, so a bad one is a bug worth stopping for)."""
    limits = {}
    for item in text.split(","):
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep or name not in ("memory_mb", "cpu_seconds", "open_files") or not value.isdigit():
            raise ValueError("%s: cannot read %r" % (ENV, item))
        limits[name] = int(value)
    return limits


def apply_limits(text: str):
    """Set the limits in ``text`` on this process; returns a CpuBudget when a CPU budget was asked, else None."""
    import resource

    limits = parse_limits(text)
    if "memory_mb" in limits:
        _lower(resource, resource.RLIMIT_DATA, limits["memory_mb"] * _MIB)
        note_memory_limit("an allocation would have taken this worker past limits.memoryMb, %d MiB"
                          % limits["memory_mb"])
    if "open_files" in limits:
        _lower(resource, resource.RLIMIT_NOFILE, limits["open_files"])
    seconds = limits.get("cpu_seconds")
    return CpuBudget(resource, seconds) if seconds else None


def _lower(resource, which, value: int) -> None:
    """Set soft and hard to ``value``, never above a hard limit already in place."""
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


class CpuBudget:
    """The per-call CPU budget: ``start(call)`` when the main thread begins running a call's code.

    A call must start with at least ``seconds`` and at most ``seconds + 1`` of CPU time left under the soft limit.
    Reading the process's CPU time is a system call (~1-5 µs on a VM, more than a short call's dispatch), so it is
    read only when the wall clock cannot vouch for the limit in place: the process's CPU time grows at most
    ``cpus`` seconds per second, so until ``recheck_at`` the last reading still proves enough is left. Short calls
    in a row therefore pay one ``time.monotonic()``, and ``setrlimit`` runs only when the budget must move.
    """

    def __init__(self, resource, seconds: int) -> None:
        self.resource = resource
        self.seconds = seconds
        self.call = None  # the call the current budget belongs to
        self._hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        self._soft = None  # the soft limit we last set (the kernel moves it 1 s on, per SIGXCPU past it)
        self._recheck_at = 0.0
        affinity = getattr(os, "sched_getaffinity", None)
        self._cpus = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)

    def start(self, call) -> None:
        """Give ``call`` a fresh budget (once: a stream's later chunks run on the same budget)."""
        if call is self.call:
            return
        self.call = call
        now = time.monotonic()
        if now < self._recheck_at:
            return
        times = os.times()
        used = times.user + times.system
        soft = self._soft
        if soft is None or soft - used < self.seconds:
            soft = int(used) + 1 + self.seconds
            if self._hard != self.resource.RLIM_INFINITY:
                soft = min(soft, self._hard)
            self.resource.setrlimit(self.resource.RLIMIT_CPU, (soft, self._hard))
            self._soft = soft
        self._recheck_at = now + (soft - self.seconds - used) / self._cpus

    def install(self, on_signal) -> None:
        """Route SIGXCPU to ``on_signal`` (main thread, after the adapter's imports)."""
        signal.signal(signal.SIGXCPU, on_signal)
