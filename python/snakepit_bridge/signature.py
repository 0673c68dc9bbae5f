"""What a worker needs of ``inspect`` at start-up, without importing it for the usual case.

``inspect`` brings ``ast``, ``dis``, ``tokenize`` and ``linecache`` with it: about a third of the bridge's import
time, paid by every worker before ``ready``, only to describe the adapter's tools. A tool is nearly always a plain
function or a method of one, whose parameters are all in its code object, ``__defaults__``, ``__kwdefaults__``
and ``__annotations__``; this module reads them there, and hands anything else (a wrapper with ``__wrapped__``
or ``__signature__``, a partial, a callable object, a builtin) to ``inspect`` itself, imported then.

- ``signature(func)``: the parameters in order, each with its ``kind`` (the ToolSpec's names:
  ``"positional_only"``, ``"positional_or_keyword"``, ``"var_positional"``, ``"keyword_only"``,
  ``"var_keyword"``), default and annotation (``EMPTY`` when there is none), and ``text(name)``, the
  signature as ``str(inspect.signature(func))`` prints it;
- ``getdoc(func)`` and ``cleandoc(doc)``: ``inspect.getdoc`` and ``inspect.cleandoc``;
- ``is_awaitable``, ``function_kind``: ``inspect.isawaitable`` and the ``is*function`` tests.

python/tests/test_signature.py checks each against ``inspect`` on generated functions; the lean start-up test
checks that a worker reaches ``ready`` without ``inspect``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Awaitable as _Awaitable  # loaded already: threading imports collections

__all__ = ["EMPTY", "POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD", "VAR_POSITIONAL", "KEYWORD_ONLY", "VAR_KEYWORD",
           "Parameter", "Signature", "signature", "from_inspect", "annotation_text", "getdoc", "cleandoc",
           "unwrap", "is_awaitable", "function_kind"]


class EMPTY:
    """No default, no annotation (``inspect.Parameter.empty``)."""


POSITIONAL_ONLY = "positional_only"
POSITIONAL_OR_KEYWORD = "positional_or_keyword"
VAR_POSITIONAL = "var_positional"
KEYWORD_ONLY = "keyword_only"
VAR_KEYWORD = "var_keyword"

_CO_VARARGS, _CO_VARKEYWORDS = 0x04, 0x08
_CO_GENERATOR, _CO_COROUTINE, _CO_ITERABLE_COROUTINE, _CO_ASYNC_GENERATOR = 0x20, 0x80, 0x100, 0x200
# What makes inspect.signature look past a function's own code: a decorator's __wrapped__, an explicit
# __signature__, functools.partialmethod's marker (named differently across versions).
_NOT_PLAIN = ("__wrapped__", "__signature__", "_partialmethod", "__partialmethod__")


class Parameter:
    __slots__ = ("name", "kind", "default", "annotation")

    def __init__(self, name: str, kind: str, default=EMPTY, annotation=EMPTY) -> None:
        self.name = name
        self.kind = kind
        self.default = default
        self.annotation = annotation

    def __repr__(self) -> str:
        return "<Parameter %s %s>" % (self.kind, self.name)


class Signature:
    """The parameters of a callable (``parameters``: name -> Parameter, in order) and its return annotation."""

    __slots__ = ("parameters", "return_annotation")

    def __init__(self, parameters, return_annotation=EMPTY) -> None:
        self.parameters = {p.name: p for p in parameters}
        self.return_annotation = return_annotation

    def without(self, name: str) -> Signature:
        return Signature([p for p in self.parameters.values() if p.name != name], self.return_annotation)

    def text(self, name: str = "") -> str:
        """``name(a: int, /, b=2, *, c) -> str``: what ``str(inspect.signature(...))`` prints, with every
        annotation as ``annotation_text`` gives it (a string annotation unquoted, as written in the source)."""
        parts = []
        slash_due = False  # positional-only parameters were printed: "/" follows them
        star_due = True  # a keyword-only parameter needs a bare "*" unless *args came first
        for p in self.parameters.values():
            kind = p.kind
            if kind == POSITIONAL_ONLY:
                slash_due = True
            elif slash_due:
                parts.append("/")
                slash_due = False
            if kind == VAR_POSITIONAL:
                star_due = False
            elif kind == KEYWORD_ONLY and star_due:
                parts.append("*")
                star_due = False
            text = p.name
            if p.annotation is not EMPTY:
                text += ": " + annotation_text(p.annotation)
            if p.default is not EMPTY:
                text += (" = " if p.annotation is not EMPTY else "=") + repr(p.default)
            parts.append("*" + text if kind == VAR_POSITIONAL else "**" + text if kind == VAR_KEYWORD else text)
        if slash_due:
            parts.append("/")
        out = "%s(%s)" % (name, ", ".join(parts))
        if self.return_annotation is not EMPTY:
            out += " -> " + annotation_text(self.return_annotation)
        return out


def signature(func) -> Signature:
    """``inspect.signature(func)``, read from the code object when ``func`` is a plain function or a method of
    one; through ``inspect`` otherwise.

    Raises:
        TypeError, ValueError: as ``inspect.signature`` does (a callable with no signature it can find).
    """
    if type(func) is types.MethodType:
        target = func.__func__
        if _plain(target):
            params = _from_code(target)
            # A bound method drops its first positional parameter; inspect refuses the odd cases, so they go there.
            if params and params[0].kind in (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD):
                return Signature(params[1:], target.__annotations__.get("return", EMPTY))
            if params and params[0].kind == VAR_POSITIONAL:
                return Signature(params, target.__annotations__.get("return", EMPTY))
    elif _plain(func):
        return Signature(_from_code(func), func.__annotations__.get("return", EMPTY))
    import inspect

    return from_inspect(inspect.signature(func))


def _plain(func) -> bool:
    if type(func) is not types.FunctionType:
        return False
    attrs = func.__dict__
    return not attrs or not any(name in attrs for name in _NOT_PLAIN)


def _from_code(func) -> list:
    code = func.__code__
    names = code.co_varnames
    positional = code.co_argcount
    posonly = code.co_posonlyargcount
    kwonly = code.co_kwonlyargcount
    annotations = func.__annotations__
    defaults = func.__defaults__ or ()
    kwdefaults = func.__kwdefaults__ or {}
    first_default = positional - len(defaults)
    params = []
    for i in range(positional):
        name = names[i]
        params.append(Parameter(name, POSITIONAL_ONLY if i < posonly else POSITIONAL_OR_KEYWORD,
                                defaults[i - first_default] if i >= first_default else EMPTY,
                                annotations.get(name, EMPTY)))
    at = positional + kwonly
    if code.co_flags & _CO_VARARGS:
        name = names[at]
        params.append(Parameter(name, VAR_POSITIONAL, EMPTY, annotations.get(name, EMPTY)))
        at += 1
    for name in names[positional:positional + kwonly]:
        params.append(Parameter(name, KEYWORD_ONLY, kwdefaults.get(name, EMPTY), annotations.get(name, EMPTY)))
    if code.co_flags & _CO_VARKEYWORDS:
        name = names[at]
        params.append(Parameter(name, VAR_KEYWORD, EMPTY, annotations.get(name, EMPTY)))
    return params


def from_inspect(sig) -> Signature:
    """An ``inspect.Signature`` in this module's terms (a Signature given is returned as it is)."""
    if isinstance(sig, Signature):
        return sig
    empty = type(sig).empty
    return Signature(
        [Parameter(p.name, p.kind.name.lower(), EMPTY if p.default is empty else p.default,
                   EMPTY if p.annotation is empty else p.annotation) for p in sig.parameters.values()],
        EMPTY if sig.return_annotation is empty else sig.return_annotation)


def annotation_text(annotation) -> str | None:
    """The annotation as text (``"int"``, ``"list[str]"``), or None when there is none: a string as it is (under
    ``from __future__ import annotations`` every annotation is one), anything else as ``inspect`` prints it."""
    if annotation is EMPTY:
        return None
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, types.GenericAlias):  # list[int]
        return str(annotation)
    if isinstance(annotation, type) and getattr(annotation, "__module__", None) != "typing":
        module = annotation.__module__
        return annotation.__qualname__ if module == "builtins" else "%s.%s" % (module, annotation.__qualname__)
    import inspect  # typing's forms, and other objects: inspect's own rules

    return inspect.formatannotation(annotation)


def getdoc(func) -> str | None:
    """``inspect.getdoc(func)``: the docstring, cleaned (``cleandoc``); for a method without one, the docstring of
    the method it overrides."""
    try:
        doc = func.__doc__
    except AttributeError:
        return None
    if doc is None:
        if type(func) is not types.MethodType or isinstance(func.__self__, type) \
                or type(func.__func__) is not types.FunctionType:
            import inspect  # a class method, a function, a callable object: inspect knows where to look

            return inspect.getdoc(func)
        name = func.__func__.__name__
        for klass in type(func.__self__).__mro__:
            try:
                doc = getattr(klass, name).__doc__
            except AttributeError:
                continue
            if doc is not None:
                break
    return cleandoc(doc) if isinstance(doc, str) else None


def cleandoc(doc: str) -> str:
    """``inspect.cleandoc``: tabs expanded, the common indentation of the lines after the first removed, the first
    line's leading blanks removed, blank lines at either end dropped."""
    lines = doc.expandtabs().split("\n")
    margin = sys.maxsize
    for line in lines[1:]:
        stripped = len(line.lstrip())
        if stripped:
            margin = min(margin, len(line) - stripped)
    lines[0] = lines[0].lstrip()
    if margin < sys.maxsize:
        lines[1:] = [line[margin:] for line in lines[1:]]
    start, end = 0, len(lines)
    while end > start and not lines[end - 1]:
        end -= 1
    while start < end and not lines[start]:
        start += 1
    return "\n".join(lines[start:end])


def unwrap(func):
    """``inspect.unwrap(func)``: follow ``__wrapped__`` to the innermost function.

    Raises:
        ValueError: the chain is a cycle.
    """
    seen = {id(func)}
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
        if id(func) in seen or len(seen) >= sys.getrecursionlimit():
            raise ValueError("wrapper loop when unwrapping %r" % func)
        seen.add(id(func))
    return func


def is_awaitable(value) -> bool:
    """``inspect.isawaitable``: a coroutine, a generator-based coroutine, or anything with ``__await__``."""
    if isinstance(value, types.CoroutineType):
        return True
    if isinstance(value, types.GeneratorType):
        return bool(value.gi_code.co_flags & _CO_ITERABLE_COROUTINE)
    return isinstance(value, _Awaitable)


def function_kind(func) -> tuple:
    """``(inspect.isgeneratorfunction(func), inspect.iscoroutinefunction(func), inspect.isasyncgenfunction(func))``.
    """
    target = func
    while type(target) is types.MethodType:
        target = target.__func__
    if type(target) is types.FunctionType and "_is_coroutine_marker" not in target.__dict__:
        flags = target.__code__.co_flags
        return bool(flags & _CO_GENERATOR), bool(flags & _CO_COROUTINE), bool(flags & _CO_ASYNC_GENERATOR)
    import inspect  # partials, callable objects, functions marked by inspect.markcoroutinefunction (3.12+)

    return inspect.isgeneratorfunction(func), inspect.iscoroutinefunction(func), inspect.isasyncgenfunction(func)
