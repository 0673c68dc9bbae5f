"""Introspection for the generic adapter: signatures and ToolSpecs of library functions.

Which callables a module offers, and the first-docstring-line convention, come from ``snakepit inspect``'s
helper (``snakepit_bridge/introspect.py``), so the CLI and the adapter list the same functions: ``__all__`` when
the module has one, otherwise public names defined in the module or its package; callables only, never modules.
"""

from __future__ import annotations

import inspect

from ..base_adapter import parameter_specs, signature_text
from ..introspect import first_doc_line, public_callables

__all__ = ["signature_of", "function_spec", "doc_signature"]


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


def function_spec(tool: str, path: str, obj, sig, library: str, is_async: bool, is_stream: bool,
                  listed: bool = True) -> dict:
    """The ToolSpec (PROTOCOL.md section 4) of a library function, with ``library``, ``function`` and
    ``listed`` (named in the library's ``functions`` or ``aliases``, not only found by ``expose: "public"``)."""
    parameters = parameter_specs(sig) if sig is not None else []
    if sig is not None:
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
        "listed": listed,
    }
