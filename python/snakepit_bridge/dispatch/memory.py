"""Giving freed memory back to the OS: once before ``ready``, and whenever the worker goes idle after calls.

Starting a worker allocates far more than it keeps: compiling the bridge's modules when there is no bytecode
cache (``PYTHONDONTWRITEBYTECODE``, a read-only install), importing the adapter, building every tool's
schema. CPython frees that memory to glibc's heap, but glibc returns only the top of the heap to the OS, so
the freed holes stay in the idle worker's RSS (about 0.8 MB for the showcase adapter). ``malloc_trim(0)``
hands every free page back; it costs well under a millisecond here, once per worker, before the first call.

The host starts workers with glibc's heap thresholds raised (worker-spawn.ts, ``heapEnv``): allocations up to
1 GiB come from the heap and what is freed stays there, so a tool that returns a large array on every call reuses
warm pages instead of faulting in fresh ones each time. The main loop gives that memory back once it has heard
nothing for ``IDLE_TRIM_S`` after a call (worker.py, ``serve``): a busy worker keeps up to its peak, an idle one
does not.

glibc only: elsewhere (macOS, musl) there is no ``malloc_trim`` and this does nothing.
"""

from __future__ import annotations

import sys

__all__ = ["IDLE_TRIM_S", "trim_heap"]

# Idle this long after a call (seconds), a worker trims its heap: long enough that calls in a burst reuse the
# memory, short enough that an idle worker's RSS is back to its resting size within a second or so.
IDLE_TRIM_S = 1.0


def trim_heap() -> bool:
    """Return the C heap's free pages to the OS (glibc's ``malloc_trim(0)``); True if it released any."""
    if not sys.platform.startswith("linux"):
        return False
    from .libc import libc_function  # bound already on Linux: the lifeline's prctl uses it

    try:
        trim = libc_function("malloc_trim")  # None on musl
        return bool(trim(0)) if trim is not None else False
    except Exception:  # no usable libc handle: keep the memory, lose nothing else
        return False
