"""Describe a module's public callables: names, signatures and the first line of their docstrings.

Used by ``snakepit inspect <module>`` (``python -m snakepit_bridge.introspect MODULE`` prints one JSON object) and
meant to be reused by the generic adapter's discovery::

    {"module": "json", "file": ".../json/__init__.py", "doc": "JSON (JavaScript Object Notation) ...",
     "callables": [{"name": "dumps", "kind": "function", "signature": "(obj, *, skipkeys=False, ...)",
                    "doc": "Serialize ``obj`` to a JSON formatted ``str``.", "is_async": false}, ...]}

Public means: listed in ``__all__`` when the module has one; otherwise not starting with ``_``, not a module,
and defined in this module or its package (so names a module merely imported, such as ``os`` in a helper, are
left out). Builtin functions of C modules (``math.sqrt``) count as defined there.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import time

__all__ = ["describe_callable", "describe_module", "public_callables", "first_doc_line"]


def first_doc_line(obj) -> str:
    """The first non-empty line of ``obj``'s docstring, or ``""``."""
    try:
        # The raw __doc__ first: inspect.getdoc cleans the whole text, which for a module of hundreds of
        # functions (numpy) costs more than the rest of discovery; it is needed only to inherit a docstring.
        doc = getattr(obj, "__doc__", None)
        if not isinstance(doc, str):
            doc = inspect.getdoc(obj)
    except Exception:  # a broken __doc__ property must not break discovery
        return ""
    for line in (doc or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _signature(obj) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        # Some builtins have no introspectable signature; their docstring often starts with one.
        return "(...)"


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "class"
    if inspect.isbuiltin(obj):
        return "builtin"
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        return "function"
    return "callable"


def describe_callable(name: str, obj) -> dict:
    """One entry of ``callables``: name, kind, signature, first doc line, and whether it is async."""
    target = inspect.unwrap(obj) if inspect.isfunction(obj) else obj
    return {
        "name": name,
        "kind": _kind(obj),
        "signature": _signature(obj),
        "doc": first_doc_line(obj),
        "is_async": inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target),
        "is_generator": inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target),
    }


def _defined_here(module, obj) -> bool:
    owner = getattr(obj, "__module__", None)
    if owner is None:
        return inspect.isbuiltin(obj)
    base = module.__name__.split(".")[0]
    return owner == module.__name__ or owner.startswith(module.__name__ + ".") or owner.split(".")[0] == base


def public_callables(module):
    """``[(name, obj)]`` of the module's public callables, sorted by name (see the module docstring)."""
    explicit = getattr(module, "__all__", None)
    if explicit is not None:
        names = [n for n in explicit if isinstance(n, str)]
    else:
        names = [n for n in dir(module) if not n.startswith("_")]
    found = []
    for name in sorted(set(names)):
        try:
            obj = getattr(module, name)
        except Exception:  # a lazy attribute that fails to load (an optional dependency) is not offered
            continue
        if inspect.ismodule(obj) or not callable(obj):
            continue
        if explicit is None and not _defined_here(module, obj):
            continue
        found.append((name, obj))
    return found


def describe_module(module_name: str) -> dict:
    """Import ``module_name`` and describe it.

    Raises:
        ImportError: (and anything the module raises at import) when it cannot be imported.
    """
    started = time.perf_counter()
    module = importlib.import_module(module_name)
    import_ms = (time.perf_counter() - started) * 1000
    return {
        "module": module.__name__,
        "file": getattr(module, "__file__", None),
        "doc": first_doc_line(module),
        "import_ms": round(import_ms, 1),
        "callables": [describe_callable(name, obj) for name, obj in public_callables(module)],
    }


def main(argv=None) -> int:
    """``python -m snakepit_bridge.introspect MODULE``: print the description as JSON.

    Exit 0 with the description, or 1 with ``{"error": {"type", "message", "missing_module"}}`` when the
    module cannot be imported.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m snakepit_bridge.introspect MODULE\n")
        return 2
    out, sys.stdout = sys.stdout, sys.stderr  # a module that prints at import must not corrupt the JSON
    try:
        result = describe_module(args[0])
    except BaseException as exc:  # report anything the import raises, SystemExit included
        sys.stdout = out
        json.dump({"error": {
            "type": type(exc).__name__,
            "message": str(exc),
            "missing_module": getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
        }}, sys.stdout)
        sys.stdout.write("\n")
        return 1
    sys.stdout = out
    json.dump(result, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
