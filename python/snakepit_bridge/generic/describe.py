"""Introspection for the generic adapter: which callables a module offers, and their ToolSpecs.

The rule for "public" and the first-docstring-line convention are the ones of ``snakepit inspect``
(``snakepit_bridge/introspect.py``, issue 8), so the CLI and the adapter list the same functions:

- ``__all__`` when the module has one; otherwise names not starting with ``_``;
- callables only, never modules;
- without ``__all__``, only objects defined in the module or its package (names a module merely imported,
  such as ``os`` in a helper, are left out). Builtin functions of C modules (``math.sqrt``) count.
"""

from __future__ import annotations

import inspect

from ..base_adapter import annotation_text, signature_text

__all__ = ["first_doc_line", "public_callables", "signature_of", "function_spec", "doc_signature"]

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional_only",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional_or_keyword",
    inspect.Parameter.VAR_POSITIONAL: "var_positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword_only",
    inspect.Parameter.VAR_KEYWORD: "var_keyword",
}


def first_doc_line(obj) -> str:
    """The first non-empty line of ``obj``'s docstring, or ``""``."""
    try:
        # The raw __doc__ first: inspect.getdoc cleans the whole text, which costs more than everything
        # else discovery does for a large module; it is needed only to inherit a missing docstring.
        doc = getattr(obj, "__doc__", None)
        if not isinstance(doc, str):
            doc = inspect.getdoc(obj)
    except Exception:  # a broken __doc__ property must not break discovery
        return ""
    for line in (doc or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _defined_here(module, obj) -> bool:
    owner = getattr(obj, "__module__", None)
    if owner is None:
        return inspect.isbuiltin(obj)
    base = module.__name__.split(".")[0]
    return owner == module.__name__ or owner.startswith(module.__name__ + ".") or owner.split(".")[0] == base


def public_callables(module) -> list:
    """``[(name, obj)]`` of the module's public callables, sorted by name (see the module docstring)."""
    explicit = getattr(module, "__all__", None)
    if explicit is not None:
        names = [n for n in explicit if isinstance(n, str) and not n.startswith("_")]
    else:
        names = [n for n in dir(module) if not n.startswith("_")]
    found = []
    for name in sorted(set(names)):
        try:
            obj = getattr(module, name)
        except Exception:  # a lazy attribute that fails to load is simply not offered
            continue
        if inspect.ismodule(obj) or not callable(obj):
            continue
        if explicit is None and not _defined_here(module, obj):
            continue
        found.append((name, obj))
    return found


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
