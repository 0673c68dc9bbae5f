"""JSON Schema for tool parameters, from signatures and type hints, and the argument checks built from it.

This is the one place where a ToolSpec gets its JSON-Schema form (``input_schema``, PROTOCOL.md section 4):

- ``input_schema(func)`` reads a callable's signature, its type hints (resolved like
  ``typing.get_type_hints``, with a fallback for hints that do not evaluate on this Python) and the
  parameter descriptions of its docstring (Google, NumPy and reST styles);
- ``ensure_input_schema(spec)`` fills ``input_schema`` into a ToolSpec that lacks one, from the
  annotation texts of its ``parameters`` (specs an adapter built itself, or the generic adapter's);
- ``compile_check(schema)`` turns a schema into a fast check the dispatcher runs on each argument before a
  tool runs (``invalid_arguments`` naming the parameter).

One module per step, each importing only what it needs (the worker imports this package at start-up, so none
of them may import ``typing`` at module level; ``hints._typing()`` imports it on first need):

- ``hints``: type hints of a callable (``_plain_hints`` without typing, ``_hints`` with it);
- ``hint_schema``: one type hint -> JSON Schema (``type_schema``; the type mapping is listed there);
- ``docstrings``: parameter descriptions (``param_descriptions``);
- ``inputs``: ``input_schema`` and ``ensure_input_schema``;
- ``checks``: ``compile_check``, on the hot path of every call.
"""

from __future__ import annotations

from .checks import MAX_ITEMS_CHECKED, compile_check
from .docstrings import param_descriptions
from .hint_schema import type_schema
from .hints import _plain_hints  # noqa: F401 (python/tests/test_lean_startup.py checks it against typing)
from .inputs import ensure_input_schema, input_schema

__all__ = ["type_schema", "input_schema", "param_descriptions", "ensure_input_schema", "compile_check",
           "MAX_ITEMS_CHECKED"]
