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


class Accumulator:
    """A small stateful object, for the object-reference demos: it stays in the worker, the host holds a PyRef."""

    def __init__(self, start: float = 0.0) -> None:
        self.total = start
        self.count = 0

    def add(self, x: float) -> float:
        self.total += x
        self.count += 1
        return self.total

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return "Accumulator(total=%r, count=%r)" % (self.total, self.count)


class ShowcaseAdapter(BaseAdapter):
    """Demo tools: ping, echo, add, error_demo, sleep, count (a stream), stats and info; remember/recall
    (session state), accumulator (an object reference), batch_process (a stream.send stream) and call_host
    (a host tool called from Python)."""
    # No state of its own: each call works on its arguments (and a session's objects on that session's calls).
    __thread_safe__ = True

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

    @tool(description="Snakepit-style stream: all arguments in params, one stream.send per item, then the total",
          supports_streaming=True)
    def batch_process(self, params, stream):
        items = params.get("items", [])
        for i, item in enumerate(items):
            stream.send({"progress": round((i + 1) * 100 / len(items)), "item": item})
        return {"total": len(items)}

    @tool(description="Keep a value in this session, in this worker (needs a session); returns the worker's pid")
    def remember(self, key: str, value=None) -> int:
        self.session_context.store(key, value)
        return os.getpid()

    @tool(description="A value kept in this session with remember, or null")
    def recall(self, key: str):
        return self.session_context.retrieve(key)

    @tool(description="A new Accumulator kept in the worker, returned as an object reference (needs a session)")
    def accumulator(self, start: float = 0.0):
        return Accumulator(start)

    @tool(description="Call the host tool `tool` (registered with pit.tools.register) with `args`; its result")
    def call_host(self, tool: str, args: dict | None = None):
        return self.session_context.call_host_tool(tool, **(args or {}))

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
