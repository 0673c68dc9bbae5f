"""Introspection for the generic adapter: signatures and ToolSpecs of library functions.

Which callables a module offers, and the first-docstring-line convention, come from ``snakepit inspect``'s
helper (``snakepit_bridge/introspect.py``), so the CLI and the adapter list the same functions: ``__all__`` when
the module has one, otherwise public names defined in the module or its package; callables only, never modules.
"""

from __future__ import annotations

import inspect

from ..base_adapter import annotation_text, signature_text
from ..introspect import first_doc_line, public_callables

__all__ = ["signature_of", "function_spec", "doc_signature"]

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional_only",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional_or_keyword",
    inspect.Parameter.VAR_POSITIONAL: "var_positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword_only",
    inspect.Parameter.VAR_KEYWORD: "var_keyword",
}


def signature_of(obj):
    """``inspect.signature(obj)``, or None when it has none (many C functions, some classes)."""
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    except Exception:  # a broken __signature__ must not break discovery
        return None


def doc_signature(name: str, obj) -> str:
    """For a callable without a signature: its docstring's first line when that reads like one
    (``log(x, [base=math.e])``), else ``name(...)``."""
    line = first_doc_line(obj)
    short = name.rsplit(".", 1)[-1]
    if line.startswith(short + "("):
        return line
    return "%s(...)" % name


def _encodable(value, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if depth < 4 and isinstance(value, (list, tuple)):
        return all(_encodable(v, depth + 1) for v in value)
    return False


def function_spec(tool: str, path: str, obj, sig, library: str, is_async: bool, is_stream: bool) -> dict:
    """The ToolSpec (PROTOCOL.md section 4) of a library function, with ``library`` and ``function``."""
    parameters = []
    if sig is not None:
        for p in sig.parameters.values():
            param = {"name": p.name, "kind": _KINDS[p.kind]}
            text = annotation_text(p.annotation)
            if text is not None:
                param["annotation"] = text
            param["required"] = p.default is inspect.Parameter.empty and p.kind not in (
                inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
            if p.default is not inspect.Parameter.empty and _encodable(p.default):
                param["default"] = list(p.default) if isinstance(p.default, tuple) else p.default
            parameters.append(param)
        try:
            signature = signature_text(path, sig)
        except Exception:  # an annotation that cannot be printed
            signature = "%s%s" % (path, sig)
    else:
        signature = doc_signature(path, obj)
    return {
        "name": tool,
        "description": first_doc_line(obj),
        "supports_streaming": is_stream,
        "is_async": is_async,
        "signature": signature,
        "parameters": parameters,
        "library": library,
        "function": path,
    }
