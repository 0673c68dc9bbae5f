"""The adapter's tools as the dispatcher sees them: resolved once at start, checked per call.

Arguments are checked against the method's signature before it runs (``invalid_arguments``). The check
is precomputed into sets (accepted names, required names) so a call costs a couple of set operations
instead of ``inspect.Signature.bind``. Then each argument's value is checked against the JSON Schema its
type hint gives (``schema.compile_check``; ``@tool(validate=False)`` turns that off).
"""

from __future__ import annotations

import types

from .. import signature
from ..base_adapter import BaseAdapter, _tool_attributes, discover_tools, tool_spec
from ..channel.values import TaggedValue
from ..schema import compile_check, ensure_input_schema
from ..schema.convert import converter
from ..schema.hints import _hints

__all__ = ["Tool", "ToolTable", "describe_ahead"]

_EMPTY = signature.EMPTY
_POSITIONAL_ONLY, _POSITIONAL_OR_KEYWORD, _KEYWORD_ONLY = (
    signature.POSITIONAL_ONLY, signature.POSITIONAL_OR_KEYWORD, signature.KEYWORD_ONLY)
_VAR_POSITIONAL, _VAR_KEYWORD = signature.VAR_POSITIONAL, signature.VAR_KEYWORD


class Tool:
    """One callable tool and what the dispatcher needs to know before calling it."""

    __slots__ = ("name", "func", "spec", "names", "required", "var_keyword", "is_async", "is_asyncgen",
                 "is_generator", "style", "checks", "extra_check", "converters", "streams", "names_only")

    def __init__(self, name: str, func, meta) -> None:
        self.name = name
        self.func = func
        self.spec = tool_spec(name, func, meta)
        sig = signature.signature(func)
        # How the call's arguments reach the method (invoke.py): as keywords (None, the usual), or in
        # Snakepit's style, all of them as one ``params`` dict and/or a ``stream`` sender for chunks.
        self.style = style = call_style(sig, meta)
        params = [p for p in sig.parameters.values() if style is None or p.name != "stream"]
        self.names = frozenset(
            p.name for p in params if p.kind in (_POSITIONAL_OR_KEYWORD, _KEYWORD_ONLY)
        )
        # A required positional-only parameter can never be passed by name: report it as missing.
        self.required = frozenset(
            p.name for p in params
            if p.default is _EMPTY
            and p.kind in (_POSITIONAL_ONLY, _POSITIONAL_OR_KEYWORD, _KEYWORD_ONLY)
        )
        self.var_keyword = any(p.kind == _VAR_KEYWORD for p in params)
        if style is not None and "params" in style:  # any names go, all into ``params``
            self.names, self.required, self.var_keyword = frozenset(), frozenset(), True
        self.is_generator, self.is_async, self.is_asyncgen = signature.function_kind(func)
        # Called only with a stream call (decided once here, not per call).
        self.streams = self.is_generator or self.is_asyncgen or (style is not None and "stream" in style)
        self.checks, self.extra_check, self.converters = (), None, ()
        if (style is None or "params" not in style) and (meta is None or meta.validate):
            self._compile_checks(self.spec.get("input_schema"))
            self.converters = _converters(func, params)
        # Nothing to check but the names (no **kwargs, no hint that says something, no conversion): the
        # caller may test the two sets itself and call problem() only when they fail (invoke.resolve).
        self.names_only = (not self.var_keyword and not self.checks and self.extra_check is None
                           and not self.converters)

    def bound_to(self, func) -> Tool:
        """This tool's description for another bound method of the same function (``describe_ahead``)."""
        copy = Tool.__new__(Tool)
        for slot in Tool.__slots__:
            setattr(copy, slot, getattr(self, slot))
        copy.func = func
        return copy

    def _compile_checks(self, schema) -> None:
        # One check per parameter whose hint says something (a bare ``x`` or ``x: Any`` costs nothing).
        if not isinstance(schema, dict):
            return
        props = schema.get("properties") or {}
        checks = [(name, compile_check(sub)) for name, sub in props.items()]
        self.checks = tuple((name, check) for name, check in checks if check is not None)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            self.extra_check = compile_check(extra)

    def problem(self, args: dict) -> str | None:
        """Why ``args`` do not bind to the signature, or None if they do."""
        keys = args.keys()
        if self.var_keyword:
            bad = [k for k in keys if type(k) is not str]
            if bad:
                return "argument names must be strings, got %s" % ", ".join(repr(k) for k in bad)
        elif not keys <= self.names:
            extra = sorted(repr(k) for k in keys - self.names)
            return "unexpected argument%s %s" % ("s" if len(extra) > 1 else "", ", ".join(extra))
        if not self.required <= keys:
            missing = sorted(self.required - keys)
            return "missing required argument%s %s" % (
                "s" if len(missing) > 1 else "", ", ".join(repr(k) for k in missing))
        for name, check in self.checks:
            if name in args:
                problem = check(args[name], name)
                if problem is not None:
                    return "argument " + problem
        if self.extra_check is not None:
            for name, value in args.items():
                if name not in self.names:
                    problem = self.extra_check(value, name)
                    if problem is not None:
                        return "argument " + problem
        # Typed parameters get their Python type (a date from ISO text, a dataclass from an object): in place.
        for name, convert in self.converters:
            value = args.get(name)
            if value is not None and not isinstance(value, TaggedValue):
                try:
                    args[name] = convert(value)
                except Exception as exc:  # what the type's own constructor raised
                    return "argument %s: %s" % (name, exc)
        return None


def _converters(func, params) -> tuple:
    """(name, converter) for each parameter whose type hint asks for a conversion (schema/convert.py)."""
    try:
        hints = _hints(func)
    except Exception:
        return ()
    found = []
    for p in params:
        hint = hints.get(p.name, p.annotation)
        if hint is _EMPTY or p.kind in (_VAR_POSITIONAL, _VAR_KEYWORD, _POSITIONAL_ONLY):
            continue
        try:
            convert = converter(hint)
        except Exception:  # a hint we cannot read: the value goes as it is
            convert = None
        if convert is not None:
            found.append((p.name, convert))
    return tuple(found)


def call_style(sig: signature.Signature, meta) -> frozenset | None:
    """``{"params"}``, ``{"stream"}``, both, or None (arguments as keywords).

    ``stream``: a ``@tool(supports_streaming=True)`` method with a parameter named ``stream`` gets a
    StreamSender there. ``params``: a method whose only other parameter is ``params`` (no default)
    gets the whole argument map as ``params``, as Snakepit adapters expect.
    """
    names = [p.name for p in sig.parameters.values()]
    style = set()
    if "stream" in names and meta is not None and meta.supports_streaming:
        style.add("stream")
        names.remove("stream")
    if names == ["params"]:
        p = sig.parameters["params"]
        if p.default is _EMPTY and p.kind in (_POSITIONAL_OR_KEYWORD, _POSITIONAL_ONLY):
            style.add("params")
    return frozenset(style) if style else None


# Tools described ahead by a pool's template (``describe_ahead``), by (name, function, metadata): each with what
# its function looked like then (``_looks``). A worker forked from the template finds its tools here instead of
# reading each signature and compiling each argument check again (the same class, so the same answers).
_AHEAD: dict = {}


def describe_ahead(cls) -> int:
    """In a pool's template: describe the ``@tool`` methods of the adapter class ``cls`` once, for every worker it
    forks (``ToolTable`` then copies them). Methods that are not plain functions (static or class methods) and any
    tool that cannot be described here are described in each worker as before. Returns how many were described."""
    try:
        probe = object.__new__(cls)  # only to bind methods to: no __init__ runs, no attribute is read
    except Exception:
        return 0
    described = 0
    for name, attr, meta in _tool_attributes(cls):
        func = _plain_function(cls, attr)
        if func is None:
            continue
        try:
            tool = Tool(name, types.MethodType(func, probe), meta)
        except Exception:  # the worker describes it itself (and reports what is wrong with it)
            continue
        tool.func = None
        _AHEAD[(name, func, meta)] = (tool, _looks(func))
        described += 1
    return described


def _plain_function(cls, attr):
    for klass in cls.__mro__:
        if attr in vars(klass):
            value = vars(klass)[attr]
            return value if isinstance(value, types.FunctionType) else None
    return None


def _looks(func) -> tuple:
    """What a tool's description is read from, to notice a function changed since (in ``initialize()``, say)."""
    return (func.__doc__, func.__defaults__, func.__kwdefaults__, dict(func.__annotations__),
            getattr(func, "__signature__", None), getattr(func, "__wrapped__", None))


def _tool(name: str, func, meta) -> Tool:
    if _AHEAD and type(func) is types.MethodType:
        ahead = _AHEAD.get((name, func.__func__, meta))
        if ahead is not None and ahead[1] == _looks(func.__func__):
            return ahead[0].bound_to(func)
    return Tool(name, func, meta)


class ToolTable:
    """The adapter's tools by name, or its ``execute_tool`` if it defines one."""

    def __init__(self, adapter) -> None:
        self.adapter = adapter
        execute = getattr(type(adapter), "execute_tool", None)
        self.execute_tool = adapter.execute_tool if execute is not None else None
        self.execute_is_async = self.execute_tool is not None and any(signature.function_kind(self.execute_tool)[1:])
        self.tools = {name: _tool(name, func, meta) for name, (func, meta) in discover_tools(adapter).items()}
        # BaseAdapter.session_context follows the current call by itself (a ContextVar); other adapters
        # get the attribute set before each call (last writer wins between concurrent async calls).
        self.assign_context = not isinstance(adapter, BaseAdapter)
        # resolve_tool(name) -> a Tool-like object or None: tools known only by name (the generic adapter).
        # Called on the reader thread for names that are not @tool methods; it must not run user code.
        self.resolve_tool = getattr(adapter, "resolve_tool", None)
        # A tool with no call style gets its arguments as keywords and nothing else (invoke.run_call's fast
        # path): no execute_tool, and no attribute to set before each call.
        self.plain = self.execute_tool is None and not self.assign_context

    def get(self, name: str) -> Tool | None:
        tool = self.tools.get(name)
        if tool is None and self.resolve_tool is not None:
            tool = self.resolve_tool(name)
        return tool

    def names(self) -> list:
        return sorted(self.tools)

    def specs(self) -> list:
        """ToolSpecs for ``ready``: the adapter's own ``get_tools()`` if it returns specs, else ours."""
        get_tools = getattr(self.adapter, "get_tools", None)
        if get_tools is not None:
            specs = get_tools()
            if isinstance(specs, list) and all(isinstance(s, dict) and "name" in s for s in specs):
                return [self._with_schema(s) for s in specs]
        return [t.spec for t in self.tools.values()]

    def _with_schema(self, spec: dict) -> dict:
        # Specs the adapter built itself may lack ``input_schema``: ours when we know the tool, else from
        # the annotation texts of its parameters.
        if "input_schema" not in spec:
            tool = self.tools.get(spec["name"])
            if tool is not None and "input_schema" in tool.spec:
                spec["input_schema"] = tool.spec["input_schema"]
        return ensure_input_schema(spec)
