"""The input schema of a tool: an ``object`` schema of the keyword arguments it accepts.

- ``input_schema(func)`` reads a callable's signature, its type hints (``hints``) and the parameter
  descriptions of its docstring (``docstrings``), and maps each hint with ``type_schema``;
- ``ensure_input_schema(spec)`` fills ``input_schema`` into a ToolSpec that lacks one, from the annotation
  texts of its ``parameters`` (specs an adapter built itself, or the generic adapter's).

A parameter with a default is optional (its default recorded when it is JSON), a None default also admits
null, and ``**kwargs`` opens the object to other keys. Positional-only and ``*args`` parameters cannot be
passed by name, so they are left out.
"""

from __future__ import annotations

import enum

from .. import signature
from .docstrings import param_descriptions
from .hint_schema import _json_of, _json_value, _nullable, type_schema
from .hints import _evaluate, _hints, _namespace

_EMPTY = signature.EMPTY


def _takes_params_dict(params: list) -> bool:
    # Snakepit's style: a method whose only parameter is ``params`` gets the whole argument map.
    return len(params) == 1 and params[0].name == "params" and params[0].default is _EMPTY \
        and params[0].kind in (signature.POSITIONAL_OR_KEYWORD, signature.POSITIONAL_ONLY)


def input_schema(func, sig: signature.Signature | None = None, skip: tuple = ()) -> dict:
    """The JSON Schema of the keyword arguments ``func`` accepts (an ``object`` schema).

    Args:
        func: the tool (a bound method, a function, or any callable with a signature).
        sig: its signature (``signature.Signature``), if already known (``stream`` removed, for instance).
        skip: parameter names that are not arguments (a stream sender).
    """
    sig = signature.signature(func) if sig is None else signature.from_inspect(sig)
    params = [p for p in sig.parameters.values() if p.name not in skip]
    if _takes_params_dict(params):
        return {"type": "object", "additionalProperties": True}
    hints = _hints(func)
    try:
        docs = param_descriptions(signature.getdoc(func))
    except Exception:
        docs = {}
    return _object_schema(params, lambda p: hints.get(p.name, p.annotation), docs)


def _object_schema(params: list, hint_of, docs: dict) -> dict:
    properties, required, extra = {}, [], False
    for p in params:
        kind = p.kind
        if kind == signature.VAR_POSITIONAL or kind == signature.POSITIONAL_ONLY:
            continue  # cannot be passed by name
        hint = hint_of(p)
        if kind == signature.VAR_KEYWORD:
            extra = type_schema(hint) or True
            continue
        schema = dict(type_schema(hint))
        if p.default is not _EMPTY:
            default = p.default.value if isinstance(p.default, enum.Enum) else p.default
            if default is None:
                schema = _nullable(schema)
            if _json_value(default):
                schema["default"] = _json_of(default)
        else:
            required.append(p.name)
        if docs.get(p.name) and "description" not in schema:
            schema["description"] = docs[p.name]
        properties[p.name] = schema
    out = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out["additionalProperties"] = extra
    return out


class _SpecParam:
    __slots__ = ("name", "kind", "default", "annotation")

    _KINDS = frozenset([signature.POSITIONAL_ONLY, signature.POSITIONAL_OR_KEYWORD, signature.VAR_POSITIONAL,
                        signature.KEYWORD_ONLY, signature.VAR_KEYWORD])

    def __init__(self, entry: dict) -> None:
        self.name = entry.get("name")
        kind = entry.get("kind")
        self.kind = kind if kind in self._KINDS else signature.POSITIONAL_OR_KEYWORD
        if "default" in entry:
            self.default = entry["default"]
        else:
            self.default = _EMPTY if entry.get("required", True) else _NO_ENCODABLE_DEFAULT
        self.annotation = entry.get("annotation", _EMPTY)


_NO_ENCODABLE_DEFAULT = object()  # optional, but its default did not fit in the spec


def ensure_input_schema(spec: dict, func=None) -> dict:
    """Return ``spec`` with ``input_schema`` set: kept if present, else from ``func`` when given, else from
    the annotation texts of ``spec["parameters"]``."""
    if not isinstance(spec, dict) or isinstance(spec.get("input_schema"), dict):
        return spec
    try:
        if func is not None:
            schema = input_schema(func)
        else:
            entries = [e for e in spec.get("parameters") or () if isinstance(e, dict) and "name" in e]
            params = [_SpecParam(e) for e in entries]
            if _takes_params_dict(params):
                schema = {"type": "object", "additionalProperties": True}
            else:
                ns = _namespace(None)
                schema = _object_schema(
                    params, lambda p: _evaluate(p.annotation, ns) if isinstance(p.annotation, str)
                    else p.annotation, {})
    except Exception:  # a spec we cannot read: say nothing rather than something wrong
        schema = {"type": "object", "additionalProperties": True}
    spec["input_schema"] = schema
    return spec
