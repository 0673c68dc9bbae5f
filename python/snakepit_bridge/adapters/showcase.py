"""ShowcaseAdapter: a small adapter that exercises every path of the bridge (demos and tests)."""

from __future__ import annotations

import builtins
import importlib.util
import os
import sys
import time

from ..base_adapter import BaseAdapter, tool
from ..runtime import worker_info

__all__ = ["ShowcaseAdapter"]

# error_demo raises only these, looked up by name (never eval'd).
_ERRORS = frozenset([
    "ValueError", "KeyError", "TypeError", "IndexError", "AttributeError", "ImportError",
    "ModuleNotFoundError", "RuntimeError", "NotImplementedError", "FileNotFoundError",
    "PermissionError", "ZeroDivisionError", "TimeoutError",
])


class ShowcaseAdapter(BaseAdapter):
    """Demo tools: ping, echo, add, error_demo, sleep, count (a stream), stats and info."""

    @tool(description="Answer with the worker's status, pid and time")
    def ping(self) -> dict:
        return {"status": "ok", "pid": os.getpid(), "timestamp": time.time()}

    @tool(description="Return the keyword arguments unchanged (any value round-trips, bytes included)")
    def echo(self, **kwargs):
        return kwargs

    @tool(description="Add two numbers")
    def add(self, a: float, b: float) -> float:
        return a + b

    @tool(description="Raise the named built-in exception (ValueError, KeyError, TypeError, ...)")
    def error_demo(self, error_type: str = "ValueError", message: str = "error_demo was asked to fail"):
        if error_type not in _ERRORS:
            allowed = ", ".join(sorted(_ERRORS))
            raise ValueError("error_type must be one of %s, got %r" % (allowed, error_type))
        raise getattr(builtins, error_type)(message)

    @tool(description="Sleep for the given number of seconds and return it")
    def sleep(self, seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    @tool(description="Stream {'i': 0} .. {'i': n-1}, waiting `delay` seconds between chunks",
          supports_streaming=True)
    def count(self, n: int = 10, delay: float = 0.0):
        for i in range(n):
            if delay:
                time.sleep(delay)
            yield {"i": i}

    @tool(description="Mean and standard deviation of a list of numbers (numpy when installed, else statistics)")
    def stats(self, values: list) -> dict:
        if not values:
            raise ValueError("stats needs at least one value")
        try:
            import numpy
        except ImportError:
            import statistics

            return {"mean": statistics.fmean(values), "std": statistics.pstdev(values),
                    "n": len(values), "engine": "statistics"}
        arr = numpy.asarray(values, dtype=float)
        return {"mean": float(arr.mean()), "std": float(arr.std()), "n": int(arr.size), "engine": "numpy"}

    @tool(description="Python version, pid, codec, and whether msgpack and numpy are available")
    def info(self) -> dict:
        return {
            "python": sys.version.split()[0],
            "implementation": sys.implementation.name,
            "pid": os.getpid(),
            "codec": worker_info().get("codec"),
            "worker_id": worker_info().get("worker_id"),
            "msgpack": importlib.util.find_spec("msgpack") is not None,
            "numpy": importlib.util.find_spec("numpy") is not None,
        }
