"""One library function as a tool: its compiled argument check, and the runner the dispatcher calls.

A :class:`LibraryFunction` has what the dispatcher expects of a tool (``dispatch/tools.py``): ``name``,
``func``, ``spec``, ``problem(args)``, ``is_async`` / ``is_asyncgen`` / ``is_generator``. Everything that
needs introspection happens once, when the library loads; a call costs a few set operations in
``problem`` (on the reader thread, before the call is queued) and one dict copy in the runner.

Calls look like ``{"_args": [positional...], "name": value, ..., "_return": "value" | "ref"}``:

    ArgMapper.problem(args)  -> None, or why they do not bind ("takes 1 positional argument but 2 ...")
    runner(**args)           -> target(*args["_args"], **rest), converted for the wire (convert.py), or as an
                                object reference with ``_return: "ref"`` (object_refs.py)
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from ..errors import BridgeError
from ..session_context import current_call
from .convert import PLAIN, as_arrow, to_wire
from .describe import function_spec, signature_of
from .hooks import CallInfo
from .object_refs import to_ref

__all__ = ["ArgMapper", "LibraryFunction", "POSITIONAL_KEY", "RETURN_KEY"]

POSITIONAL_KEY = "_args"
RETURN_KEY = "_return"  # "value" (the default), "ref" (an object reference) or "arrow" (a table as Arrow)
_RESERVED = frozenset([POSITIONAL_KEY, RETURN_KEY])
_P = inspect.Parameter


def _plural(n: int, word: str) -> str:
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def _names(names) -> str:
    return ", ".join(repr(n) for n in sorted(names))


class ArgMapper:
    """A signature compiled into the sets and counts a call is checked against."""

    __slots__ = ("positional", "max_positional", "keyword", "positional_only", "required_positional",
                 "required_keyword", "var_keyword", "checked")

    def __init__(self, sig) -> None:
        self.checked = sig is not None  # without a signature only the shape of the call is checked
        params = list(sig.parameters.values()) if sig is not None else []
        self.positional = [p.name for p in params if p.kind in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)]
        var_positional = any(p.kind is _P.VAR_POSITIONAL for p in params)
        self.max_positional = None if var_positional else len(self.positional)
        self.keyword = frozenset(p.name for p in params if p.kind in (_P.POSITIONAL_OR_KEYWORD, _P.KEYWORD_ONLY))
        self.positional_only = frozenset(p.name for p in params if p.kind is _P.POSITIONAL_ONLY)
        # (index, name) of required positional parameters; names of required keyword-only ones
        self.required_positional = [(i, p.name) for i, p in enumerate(
            q for q in params if q.kind in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)) if p.default is _P.empty]
        self.required_keyword = frozenset(p.name for p in params
                                          if p.kind is _P.KEYWORD_ONLY and p.default is _P.empty)
        self.var_keyword = any(p.kind is _P.VAR_KEYWORD for p in params)

    def problem(self, args: dict):
        """Why ``args`` do not bind to the signature, or None if they do."""
        positional = args.get(POSITIONAL_KEY)
        returning = args.get(RETURN_KEY)
        if returning is not None and returning not in ("value", "ref", "arrow"):
            return '%s must be "value", "ref" or "arrow", got %r' % (RETURN_KEY, returning)
        names = args.keys() - _RESERVED if positional is not None or returning is not None else args.keys()
        if positional is None:
            count = 0
        else:
            if type(positional) is not list:
                return "%s must be a list of positional arguments, got %s" % (POSITIONAL_KEY, type(positional).__name__)
            count = len(positional)
        if not self.checked:
            bad = [k for k in names if type(k) is not str]
            return "argument names must be strings, got %s" % _names(map(repr, bad)) if bad else None
        if self.max_positional is not None and count > self.max_positional:
            return "takes %s but %d %s given" % (_plural(self.max_positional, "positional argument"), count,
                                                 "was" if count == 1 else "were")
        if not self.var_keyword and not names <= self.keyword:
            extra = names - self.keyword
            by_name = extra & self.positional_only
            if by_name:
                return "%s positional-only: pass %s in %s" % (
                    _names(by_name) + (" is" if len(by_name) == 1 else " are"),
                    "it" if len(by_name) == 1 else "them", POSITIONAL_KEY)
            return "got unexpected keyword argument%s %s" % ("s" if len(extra) > 1 else "", _names(map(str, extra)))
        twice = names & frozenset(self.positional[:count])
        if twice:
            return "got multiple values for argument%s %s (in %s and by name)" % (
                "s" if len(twice) > 1 else "", _names(twice), POSITIONAL_KEY)
        missing = [name for index, name in self.required_positional if index >= count and name not in names]
        missing.extend(sorted(self.required_keyword - names))
        if missing:
            return "missing required argument%s %s" % ("s" if len(missing) > 1 else "",
                                                       ", ".join(repr(n) for n in missing))
        return None


class LibraryFunction:
    """A library function compiled into a tool (see the module docstring)."""

    __slots__ = ("name", "func", "spec", "mapper", "target", "path", "library", "is_async", "is_asyncgen",
                 "is_generator", "streams", "style", "options", "hooks")

    def __init__(self, name: str, path: str, target, library, listed: bool = True) -> None:
        self.name = name  # python.<namespace>.<path or alias>
        self.path = path
        self.target = target
        self.library = library
        self.options = library.options
        self.hooks = library.hooks
        self.style = None  # how the dispatcher passes arguments: as keywords
        probe = inspect.unwrap(target) if inspect.isfunction(target) else target
        self.is_asyncgen = inspect.isasyncgenfunction(probe)
        self.is_async = not self.is_asyncgen and inspect.iscoroutinefunction(probe)
        self.is_generator = inspect.isgeneratorfunction(probe)
        self.streams = self.is_generator or self.is_asyncgen  # called only with a stream call
        sig = signature_of(target)
        self.mapper = ArgMapper(sig)
        self.spec = function_spec(name, path, target, sig, library.config.name, self.is_async or self.is_asyncgen,
                                  self.is_generator or self.is_asyncgen, listed)
        self.func = self._runner()

    def problem(self, args: dict):
        if RETURN_KEY in args and (self.is_generator or self.is_asyncgen) and args[RETURN_KEY] == "ref":
            return '%s: "ref" is for single results; a stream sends its items by value' % RETURN_KEY
        return self.mapper.problem(args)

    # ------------------------------------------------------------------------------------ runners

    def _runner(self):
        if self.is_asyncgen:
            return self._asyncgen_runner()
        if self.is_async:
            return self._async_runner()
        if self.is_generator:
            return self._generator_runner()
        return self._sync_runner()

    def _sync_runner(self):
        target, deliver, hooks, unchecked = self.target, self.deliver, self.hooks, not self.mapper.checked

        if hooks is None:
            def run(**args):
                positional = args.pop(POSITIONAL_KEY, None)
                returning = args.pop(RETURN_KEY, None)
                try:
                    result = target(**args) if positional is None else target(*positional, **args)
                except TypeError as exc:
                    if unchecked and exc.__traceback__.tb_next is None:  # raised by the C callee itself
                        raise self._bad_call(exc) from None
                    raise
                if returning is not None and returning != "value":
                    return to_ref(result, "result") if returning == "ref" else as_arrow(result)
                return result if type(result) in PLAIN else deliver(result)
            return run

        def run_hooked(**args):
            positional = args.pop(POSITIONAL_KEY, None) or ()
            returning = args.pop(RETURN_KEY, None)
            info = self._info(positional, args)
            if not hooks.before(info):
                try:
                    info.result = target(*positional, **args)
                except Exception as exc:
                    info.error = exc
                    hooks.after(info)
                    if unchecked and isinstance(exc, TypeError) and exc.__traceback__.tb_next is None:
                        raise self._bad_call(exc) from None
                    raise
            hooks.after(info)
            if returning == "arrow":
                return as_arrow(info.result)
            return to_ref(info.result, "result") if returning == "ref" else deliver(info.result)
        return run_hooked

    def _async_runner(self):
        target, hooks, options = self.target, self.hooks, self.options

        async def run(**args):
            positional = args.pop(POSITIONAL_KEY, None) or ()
            returning = args.pop(RETURN_KEY, None)
            convert = _as_ref if returning == "ref" else _as_arrow if returning == "arrow" else to_wire
            if hooks is None:
                return convert(await target(*positional, **args), options)
            info = self._info(positional, args)
            if not hooks.before(info):
                try:
                    info.result = await target(*positional, **args)
                except Exception as exc:
                    info.error = exc
                    hooks.after(info)
                    raise
            hooks.after(info)
            return convert(info.result, options)
        return run

    def _generator_runner(self):
        target, hooks, options = self.target, self.hooks, self.options

        def run(**args):
            positional = args.pop(POSITIONAL_KEY, None) or ()
            args.pop(RETURN_KEY, None)
            info = self._info(positional, args) if hooks is not None else None
            if info is not None:
                hooks.before(info)  # a stream is never answered from a hook
            try:
                value = yield from _mapped(target(*positional, **args), options)
            except Exception as exc:
                if info is not None:
                    info.error = exc
                raise
            finally:
                if info is not None:
                    hooks.after(info)
            return value
        return run

    def _asyncgen_runner(self):
        target, hooks, options = self.target, self.hooks, self.options

        async def run(**args):
            positional = args.pop(POSITIONAL_KEY, None) or ()
            args.pop(RETURN_KEY, None)
            info = self._info(positional, args) if hooks is not None else None
            if info is not None:
                hooks.before(info)
            agen = target(*positional, **args)
            try:
                async for item in agen:
                    yield to_wire(item, options, "chunk")
            except Exception as exc:
                if info is not None:
                    info.error = exc
                raise
            finally:
                await agen.aclose()
                if info is not None:
                    hooks.after(info)
        return run

    # ---------------------------------------------------------------------------------- helpers

    def deliver(self, result):
        """What a sync function returned, for the dispatcher: converted, or a stream, or awaited."""
        if inspect.iscoroutine(result):
            return _awaited(result, self.options)
        call = current_call.get()
        if call is not None and call.stream:
            if inspect.isasyncgen(result):
                return _amapped(result, self.options)
            if isinstance(result, Iterator):  # a generator, or map / zip / a file / ...
                return _mapped(result, self.options)
        elif inspect.isgenerator(result) or inspect.isasyncgen(result):
            if inspect.isgenerator(result):
                result.close()
            raise BridgeError("invalid_arguments", "%s returned a generator: call it with executeStream"
                              % self.name, {"tool": self.name, "signature": self.spec["signature"],
                                            "problem": "it returned a generator: use executeStream"})
        return to_wire(result, self.options)

    def _info(self, positional, kwargs) -> CallInfo:
        return CallInfo(self.library.config.name, self.name, self.path, tuple(positional), kwargs)

    def _bad_call(self, exc: TypeError) -> BridgeError:
        problem = str(exc)
        return BridgeError("invalid_arguments", "%s() %s" % (self.name, problem),
                           {"tool": self.name, "signature": self.spec["signature"], "problem": problem})


def _as_ref(value, options):
    return to_ref(value, "result")


def _as_arrow(value, options):
    return as_arrow(value)


def _mapped(gen, options):
    """Yield each item of ``gen`` converted; its return value is returned; closing closes ``gen``."""
    try:
        while True:
            try:
                item = next(gen)
            except StopIteration as stop:
                return stop.value
            yield to_wire(item, options, "chunk")
    finally:
        close = getattr(gen, "close", None)  # plain iterators have none
        if close is not None:
            close()


async def _amapped(agen, options):
    try:
        async for item in agen:
            yield to_wire(item, options, "chunk")
    finally:
        await agen.aclose()


async def _awaited(coro, options):
    return to_wire(await coro, options)
