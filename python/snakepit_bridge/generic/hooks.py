"""Before/after hooks around a library's calls, configured per library (``hooks: [...]``).

    hooks: ["timing", "log", "cache", "my_pkg.audit:AuditHook"]

A hook is an object with ``before(info)`` and/or ``after(info)`` (a class is instantiated once, with no
arguments). ``info`` is a :class:`CallInfo`. ``before`` may answer the call itself: it sets
``info.result`` and returns True, and the function is not called (the ``cache`` hook does this); later
``before`` hooks are then skipped, every ``after`` hook still runs. ``after`` sees ``info.result`` or
``info.error`` and ``info.duration`` (seconds), and may replace ``info.result``.

Built in:
- ``timing``: a telemetry event ``snakepit.generic.call`` (``duration`` in ns; ``library``, ``function``,
  ``ok``) for ``pit.on("python:event")``.
- ``log``: one ``logging`` record per call (``snakepit_bridge.generic`` logger, level INFO), which the host
  logs with the worker's id.
- ``cache``: results of pure functions, by arguments (only hashable ones: numbers, strings, tuples of
  them), least recently used first out, ``cache_size`` entries per library.

For streams, ``before`` runs when the stream starts and ``after`` when it ends; for ``async`` functions,
around the awaited call.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections import OrderedDict

from .. import telemetry

__all__ = ["CallInfo", "HookChain", "load_hooks"]

_log = logging.getLogger("snakepit_bridge.generic")


class CallInfo:
    """One call as the hooks see it."""

    __slots__ = ("library", "tool", "function", "args", "kwargs", "started", "duration", "result", "error",
                 "cached", "state")

    def __init__(self, library: str, tool: str, function: str, args: tuple, kwargs: dict) -> None:
        self.library = library
        self.tool = tool
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.started = time.perf_counter()
        self.duration = None
        self.result = None
        self.error = None
        self.cached = False
        self.state = {}  # scratch space for hooks, per call

    def __repr__(self) -> str:
        return "CallInfo(%s, cached=%r)" % (self.tool, self.cached)


class TimingHook:
    def after(self, info: CallInfo) -> None:
        telemetry.emit(["snakepit", "generic", "call"], {"duration": int(info.duration * 1e9)},
                       {"library": info.library, "function": info.function, "ok": info.error is None,
                        "cached": info.cached})


class LogHook:
    def after(self, info: CallInfo) -> None:
        if info.error is None:
            _log.info("%s took %.3f ms%s", info.tool, info.duration * 1e3, " (cached)" if info.cached else "")
        else:
            _log.info("%s failed after %.3f ms: %s: %s", info.tool, info.duration * 1e3,
                      type(info.error).__name__, info.error)


class CacheHook:
    """A per-library LRU cache of results keyed by (function, arguments)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries = OrderedDict()
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()  # sync calls run on the main thread, async ones on the loop's

    def before(self, info: CallInfo) -> bool:
        key = _cache_key(info)
        if key is None:
            return False
        info.state["cache_key"] = key
        with self._lock:
            try:
                result = self.entries[key]
            except KeyError:
                self.misses += 1
                return False
            self.entries.move_to_end(key)
            self.hits += 1
        info.result = result
        info.cached = True
        return True

    def after(self, info: CallInfo) -> None:
        key = info.state.get("cache_key")
        if key is None or info.cached or info.error is not None:
            return
        with self._lock:
            self.entries[key] = info.result
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)


def _cache_key(info: CallInfo):
    try:
        key = (info.function, _frozen(info.args), tuple(sorted((k, _frozen(v)) for k, v in info.kwargs.items())))
        hash(key)
        return key
    except TypeError:  # an unhashable argument (a dict, an array): not cached
        return None


def _frozen(value):
    if isinstance(value, list):
        return ("__list__",) + tuple(_frozen(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_frozen(v) for v in value)
    return value


class HookChain:
    """The hooks of one library, in configured order."""

    __slots__ = ("before_hooks", "after_hooks", "hooks")

    def __init__(self, hooks: list) -> None:
        self.hooks = hooks
        self.before_hooks = [h.before for h in hooks if callable(getattr(h, "before", None))]
        self.after_hooks = [h.after for h in hooks if callable(getattr(h, "after", None))]

    def before(self, info: CallInfo) -> bool:
        """Run the ``before`` hooks; True if one answered the call."""
        for hook in self.before_hooks:
            if hook(info):
                return True
        return False

    def after(self, info: CallInfo) -> None:
        info.duration = time.perf_counter() - info.started
        for hook in self.after_hooks:
            hook(info)


def load_hooks(specs: list, cache_size: int) -> HookChain | None:
    """Build the chain for ``specs`` (names or ``module:attr``); None when there are none.

    Raises:
        ImportError, AttributeError: a user hook cannot be found.
        TypeError: a user hook has neither ``before`` nor ``after``.
    """
    if not specs:
        return None
    hooks = []
    for spec in specs:
        if spec == "timing":
            hooks.append(TimingHook())
        elif spec == "log":
            hooks.append(LogHook())
        elif spec == "cache":
            hooks.append(CacheHook(cache_size))
        else:
            module, _, attr = spec.partition(":")
            hook = getattr(importlib.import_module(module), attr)
            if isinstance(hook, type):
                hook = hook()
            if not callable(getattr(hook, "before", None)) and not callable(getattr(hook, "after", None)):
                raise TypeError("hook %r has neither a before(info) nor an after(info) method" % spec)
            hooks.append(hook)
    return HookChain(hooks)
