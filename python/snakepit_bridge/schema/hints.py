"""Type hints of a callable, resolved like ``typing.get_type_hints``, without importing ``typing`` if it can.

Two ways to the same answer:

- ``_plain_hints(func)``: hints that are builtin classes (``a: int``), ``None``, the name of one (a string
  under ``from __future__ import annotations``) or, from Python 3.10, a ``|`` union of those, read straight
  from ``__annotations__``. Most adapter tools have only such hints, and an idle worker whose tools all do
  never imports ``typing`` (about 0.35 MB; test/integration/idle-footprint.test.ts checks it).
- ``_hints(func)``: anything else, through ``typing.get_type_hints``, and when that raises (a forward
  reference, ``X | Y`` on Python < 3.10) each hint on its own, ``_Unknown`` for one that does not evaluate.

``_typing()`` is the one way the schema modules reach ``typing``: never import it at module level here.
"""

from __future__ import annotations

import sys
import types

from ..signature import unwrap

_NoneType = type(None)
_UNION_TYPE = getattr(types, "UnionType", None)  # ``X | Y`` (Python 3.10+)


def _typing():
    """The ``typing`` module, imported on first need (a dict lookup after that).

    typing costs an idle worker about 0.35 MB, and tools whose hints are builtin classes (``a: int``,
    ``name: "str" = "x"``) or absent never need it: ``_plain_hints`` and the top of ``type_schema`` handle those
    without it. Anything else (``Optional``, ``list[int]``, a class of the adapter's) imports it here.
    """
    import typing

    return typing



def _namespace(func) -> dict:
    ns = dict(vars(_typing()))
    ns.update(vars(__import__("builtins")))
    target = unwrap(getattr(func, "__func__", func)) if func is not None else None
    ns.update(getattr(target, "__globals__", {}) or {})
    return ns


def _split_top(text: str, sep: str) -> list:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


class _Unknown:
    """A hint that could not be evaluated: any value."""


def _evaluate(text: str, ns: dict):
    try:
        return eval(text, ns)  # what typing.get_type_hints does with a string annotation
    except TypeError:
        # ``int | None`` under ``from __future__ import annotations`` on Python < 3.10.
        parts = _split_top(text, "|")
        if len(parts) > 1:
            try:
                return _typing().Union[tuple(_evaluate(p, ns) for p in parts)]
            except Exception:
                return _Unknown
        return _Unknown
    except Exception:
        return _Unknown


# The classes a hint may name for ``_plain_hints`` to resolve it without typing (typing.get_type_hints returns
# each of them unchanged, and ``None`` as NoneType).
_PLAIN_HINTS = frozenset([bool, int, float, str, bytes, bytearray, list, dict, tuple, set, frozenset, object,
                          _NoneType])
_OPTIONAL_FOR_NONE_DEFAULT = sys.version_info < (3, 11)  # get_type_hints made ``x: int = None`` Optional[int]


def _plain_hints(func):
    """``typing.get_type_hints(func)`` when every hint is a builtin class of ``_PLAIN_HINTS``, None, the name of
    one (a string: ``from __future__ import annotations``) or, from Python 3.10, a ``|`` union of those; None when
    ``func`` has any other kind of hint.

    Same lookup as get_type_hints: a name is resolved in the function's globals, then in builtins.
    """
    if not isinstance(func, (types.FunctionType, types.MethodType)) or hasattr(func, "__wrapped__"):
        return None
    raw = getattr(func, "__annotations__", None)
    if not isinstance(raw, dict):
        return None
    hints = {}
    globalns = None
    for name, value in raw.items():
        if isinstance(value, str):
            if globalns is None:
                globalns = getattr(func, "__globals__", None)
                if not isinstance(globalns, dict):
                    return None
            value = _plain_name(value, globalns)
            if value is _Unknown:
                return None
        if value is None:
            value = _NoneType
        elif _UNION_TYPE is not None and isinstance(value, _UNION_TYPE):
            if not all(arg in _PLAIN_HINTS for arg in value.__args__):
                return None
        elif type(value) is not type or value not in _PLAIN_HINTS:
            return None
        hints[name] = value
    if _OPTIONAL_FOR_NONE_DEFAULT and hints:
        code, defaults = getattr(func, "__code__", None), getattr(func, "__defaults__", None) or ()
        kwdefaults = getattr(func, "__kwdefaults__", None) or {}
        if code is None or None in defaults or None in kwdefaults.values():
            return None  # get_type_hints would turn a hint with a None default into Optional: the usual path
    return hints


def _plain_name(text: str, globalns: dict):
    """What ``eval(text, globalns)`` gives for a name or (3.10+) ``A | B | ...`` of names; _Unknown otherwise."""
    parts = text.split("|") if _UNION_TYPE is not None else [text]
    value = None
    for i, part in enumerate(parts):
        part = part.strip()
        if not part.isidentifier():
            return _Unknown
        if part in globalns:
            item = globalns[part]
        else:
            builtins = globalns.get("__builtins__", __builtins__)
            builtins = builtins if isinstance(builtins, dict) else vars(builtins)
            if part not in builtins:
                return _Unknown  # a NameError for get_type_hints: let the usual path decide
            item = builtins[part]
        try:
            value = item if i == 0 else value | item
        except TypeError:  # ``None | None``, or an object with no ``|``
            return _Unknown
    return value


def _hints(func) -> dict:
    hints = _plain_hints(func)
    if hints is not None:
        return hints
    typing = _typing()
    try:
        return typing.get_type_hints(func, include_extras=True)
    except Exception:  # a forward reference or ``X | Y`` on an older Python: each hint on its own
        pass
    raw = getattr(func, "__annotations__", None) or {}
    ns = None
    hints = {}
    for name, value in raw.items():
        if isinstance(value, str):
            ns = ns if ns is not None else _namespace(func)
            value = _evaluate(value, ns)
        hints[name] = value
    return hints
