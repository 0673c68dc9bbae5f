"""``BaseAdapter`` and the ``@tool`` decorator (compatible with Snakepit's).

    class MyAdapter(BaseAdapter):
        @tool(description="add two numbers")
        def add(self, a: int, b: int) -> int:
            return a + b

The worker calls ``@tool`` methods by name with the call's ``args`` as keyword arguments, unless the
adapter defines ``execute_tool(tool_name, arguments, context)``, which then receives every call.
"""

from __future__ import annotations

from collections.abc import Callable

from . import signature
from .schema import input_schema
from .session_context import SessionContext, current_call

__all__ = ["BaseAdapter", "tool", "ToolMetadata", "discover_tools", "tool_spec"]


class ToolMetadata:
    """What ``@tool`` records on a function (as ``func._tool_metadata``).

    ``extra`` holds the decorator's other keywords (Snakepit's ``required_variables``, ``parameters``, and any
    later one); they travel in the ToolSpec's ``metadata``.
    """

    __slots__ = ("name", "description", "supports_streaming", "validate", "extra")

    def __init__(self, name: str | None, description: str | None, supports_streaming: bool,
                 validate: bool = True, extra: dict | None = None) -> None:
        self.name = name
        self.description = description
        self.supports_streaming = supports_streaming
        self.validate = validate
        self.extra = extra or {}

    # Snakepit's ToolMetadata fields
    @property
    def required_variables(self) -> list:
        return list(self.extra.get("required_variables") or [])

    @property
    def parameters(self) -> list:
        return list(self.extra.get("parameters") or [])

    def __repr__(self) -> str:
        return "ToolMetadata(name=%r, supports_streaming=%r)" % (self.name, self.supports_streaming)


# What type checkers see: @tool gives back the method it was given, signature and all (under mypy --strict an
# untyped decorator would make every tool untyped). Only they read this branch: the worker never imports
# ``typing`` at start (see the lean start-up tests), and mypy and pyright take any ``TYPE_CHECKING`` as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar, overload

    _F = TypeVar("_F", bound=Callable[..., Any])

    @overload
    def tool(func: _F) -> _F: ...

    @overload
    def tool(func: str | None = None, *, description: str | None = None, supports_streaming: bool = False,
             name: str | None = None, validate: bool = True, **extra: Any) -> Callable[[_F], _F]: ...

    def tool(func: Any = None, **options: Any) -> Any: ...


else:
    def tool(func=None, *, description=None, supports_streaming=False, name=None, validate=True, **extra):
        """Mark a method as a tool. Use bare (``@tool``) or with options (``@tool(description=...)``).

        Args:
            description: shown in the tool's spec; defaults to the docstring.
            supports_streaming: the tool yields chunks (set automatically for generator functions).
            name: the tool's name, if not the method's.
            validate: check argument values against the type hints before the tool runs (the
                ``input_schema`` of its spec); False checks only names, as before type checks existed.
            **extra: any other keyword of Snakepit's decorator (``required_variables``, ``parameters``, ...)
                or a later one: accepted, and kept in the ToolSpec's ``metadata``, so adapters written for
                Snakepit start.
        """
        if isinstance(func, str):  # @tool("description")
            description, func = func, None

        def mark(fn):
            target = fn.__func__ if isinstance(fn, (staticmethod, classmethod)) else fn
            target._tool_metadata = ToolMetadata(name, description, supports_streaming, validate, extra)
            return fn

        return mark(func) if func is not None else mark


# ------------------------------------------------------------------------------------- discovery

_CACHE = {}  # class -> [(tool name, attribute name, metadata)]


def _tool_attributes(cls: type) -> list:
    found = _CACHE.get(cls)
    if found is None:
        found, seen = [], set()
        for klass in cls.__mro__:
            for attr, value in vars(klass).items():
                if attr in seen:
                    continue
                seen.add(attr)
                func = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
                meta = getattr(func, "_tool_metadata", None)
                if isinstance(meta, ToolMetadata):
                    found.append((meta.name or attr, attr, meta))
        _CACHE[cls] = found
    return found


def discover_tools(adapter: object) -> dict:
    """Return ``{tool name: (bound method, ToolMetadata)}`` for the ``@tool`` methods of ``adapter``."""
    return {name: (getattr(adapter, attr), meta) for name, attr, meta in _tool_attributes(type(adapter))}


# ------------------------------------------------------------------------------------- tool specs


def annotation_text(annotation: object) -> str | None:
    """The annotation as text (``"int"``, ``"list[str]"``), or None when there is none."""
    return signature.annotation_text(annotation)


def _encodable(value: object, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return True
    if depth > 16:
        return False
    if isinstance(value, (list, tuple)):
        return all(_encodable(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _encodable(v, depth + 1) for k, v in value.items())
    return False


def signature_text(name: str, sig) -> str:
    """``name(a: int, b: int = 2) -> int``, with annotations as written in the source (``sig``: a
    ``signature.Signature`` or an ``inspect.Signature``)."""
    return signature.from_inspect(sig).text(name)


def parameter_specs(sig) -> list:
    """The ``parameters`` of a ToolSpec (PROTOCOL.md section 4): name, kind, annotation, required, default
    (``sig``: a ``signature.Signature`` or an ``inspect.Signature``)."""
    parameters = []
    for p in signature.from_inspect(sig).parameters.values():
        param = {"name": p.name, "kind": p.kind}
        text = annotation_text(p.annotation)
        if text is not None:
            param["annotation"] = text
        param["required"] = p.default is signature.EMPTY and p.kind not in (
            signature.VAR_POSITIONAL, signature.VAR_KEYWORD)
        if p.default is not signature.EMPTY and _encodable(p.default):
            # Both codecs send a tuple as an array; say so in the spec too.
            param["default"] = list(p.default) if isinstance(p.default, tuple) else p.default
        parameters.append(param)
    return parameters


def tool_spec(name: str, func: Callable, meta: ToolMetadata | None = None) -> dict:
    """Return the ToolSpec of ``func`` (PROTOCOL.md section 4); ``func`` is a bound method."""
    meta = meta or getattr(func, "_tool_metadata", None) or ToolMetadata(None, None, False)
    sig = signature.signature(func)
    if meta.supports_streaming and "stream" in sig.parameters:  # the StreamSender, not an argument
        sig = sig.without("stream")
    parameters = parameter_specs(sig)
    is_gen, is_coroutine, is_asyncgen = signature.function_kind(func)
    try:
        schema = input_schema(func, sig)
    except Exception:  # an odd signature must not keep the adapter from starting
        schema = {"type": "object", "additionalProperties": True}
    spec = {
        "name": name,
        "description": meta.description or signature.getdoc(func) or "",
        "supports_streaming": bool(meta.supports_streaming or is_gen or is_asyncgen),
        "is_async": is_coroutine or is_asyncgen,
        "signature": sig.text(name),
        "parameters": parameters,
        "input_schema": schema,
    }
    extra = getattr(meta, "extra", None)
    if extra:  # Snakepit's other decorator keywords, kept as they were given (when they can be sent)
        spec["metadata"] = {k: v for k, v in extra.items() if _encodable(v)}
    return spec


# ---------------------------------------------------------------------------------- BaseAdapter


class BaseAdapter:
    """Base class for adapters. Subclasses mark methods with ``@tool``.

    Hooks ``initialize()`` and ``cleanup()`` may be plain or ``async``; the worker calls them once, at
    start and at shutdown. ``self.session_context`` is the current call's :class:`SessionContext`,
    correct in each call even when async tools run concurrently.
    """

    def initialize(self) -> None:
        """Called once after the adapter is created, before the worker reports ready."""

    def cleanup(self) -> None:
        """Called once when the worker shuts down."""

    @property
    def session_context(self) -> SessionContext | None:
        """The SessionContext of the call being handled (None outside a call unless assigned)."""
        call = current_call.get()
        if call is not None:
            return call.context
        return self.__dict__.get("_session_context")

    @session_context.setter
    def session_context(self, value: SessionContext | None) -> None:
        self.__dict__["_session_context"] = value

    def get_tools(self) -> list:
        """Return the ToolSpecs of this adapter's ``@tool`` methods."""
        return [tool_spec(name, func, meta) for name, (func, meta) in discover_tools(self).items()]

    # Snakepit's adapter methods: the worker sets the context itself, and registers the tools in its handshake.
    def set_session_context(self, session_context: SessionContext | None) -> None:
        """Snakepit's setter for ``self.session_context`` (outside a call; in a call the call's context wins)."""
        self.session_context = session_context

    def register_with_session(self, session_id: str, stub: object = None) -> list:
        """Snakepit registers an adapter's tools with a session this way; here the worker announces them in
        its handshake, so this only returns their names."""
        return [spec["name"] for spec in self.get_tools()]

    def call_tool(self, name: str, **kwargs: object) -> object:
        """Call the ``@tool`` method called ``name`` with ``kwargs``.

        Raises:
            ValueError: there is no such tool.
        """
        tools = discover_tools(self)
        if name not in tools:
            raise ValueError("unknown tool %r (available: %s)" % (name, ", ".join(sorted(tools)) or "none"))
        return tools[name][0](**kwargs)
