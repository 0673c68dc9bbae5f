"""The JSON Schema of one type hint (``type_schema``), and the schema helpers the input schema builds on.

Type mapping: ``int`` -> integer, ``float`` -> number, ``str`` -> string, ``bool`` -> boolean, ``bytes`` ->
string with ``format: binary``, ``None`` -> null, ``list[X]``/``Sequence[X]``/``set[X]``/``tuple[X, ...]`` ->
array, ``tuple[X, Y]`` -> array with ``prefixItems``, ``dict[str, V]``/``Mapping`` -> object, ``TypedDict`` ->
object with properties, ``Optional[X]``/``Union``/``X | Y`` -> ``anyOf`` (or a list of types), ``Literal`` and
``Enum`` -> ``enum``, ``Annotated[X, "text"]`` -> X with that description, ``NewType`` -> its base;
``Any``, ``object``, classes and anything else -> ``{}`` (any value).

Builtin classes (and ``|`` unions of them) are mapped before ``typing`` is imported, so tools with plain hints
never load it (see ``hints``); everything past them goes through ``_typing()``.
"""

from __future__ import annotations

import collections.abc as cabc
import enum
import math
import sys

from ..signature import EMPTY
from .convert import class_schema
from .hints import _PLAIN_HINTS, _UNION_TYPE, _NoneType, _typing, _Unknown, _evaluate, _namespace

_SIMPLE = {
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bytes: {"type": "string", "format": "binary"},
    bytearray: {"type": "string", "format": "binary"},
    _NoneType: {"type": "null"},
}
_ARRAYS = (list, cabc.Sequence, cabc.MutableSequence, cabc.Iterable, cabc.Collection, cabc.Iterator)
_SETS = (set, frozenset, cabc.Set, cabc.MutableSet)
_MAPS = (dict, cabc.Mapping, cabc.MutableMapping)


def _is_inspect_empty(tp) -> bool:
    inspect = sys.modules.get("inspect")  # a caller's ``inspect.Parameter.empty``: no hint either
    return inspect is not None and tp is getattr(getattr(inspect, "Parameter", None), "empty", None)


def _is_union(origin) -> bool:
    return origin is _typing().Union or (_UNION_TYPE is not None and origin is _UNION_TYPE)


def _json_value(value, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if depth > 8:
        return False
    if isinstance(value, (list, tuple)):
        return all(_json_value(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_value(v, depth + 1) for k, v in value.items())
    return False


def _json_of(value):
    if isinstance(value, tuple):
        return [_json_of(v) for v in value]
    if isinstance(value, list):
        return [_json_of(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_of(v) for k, v in value.items()}
    return value


def _any_of(parts: list) -> dict:
    flat = []
    for part in parts:
        if not part:
            return {}  # one alternative takes anything: so does the union
        for p in part.get("anyOf", [part]) if set(part) == {"anyOf"} else [part]:
            if p not in flat:
                flat.append(p)
    if len(flat) == 1:
        return flat[0]
    if all(set(p) == {"type"} and isinstance(p["type"], str) for p in flat):
        return {"type": [p["type"] for p in flat]}
    return {"anyOf": flat}


def _enum_schema(values: list) -> dict:
    values = [_json_of(v.value if isinstance(v, enum.Enum) else v) for v in values]
    schema = {"enum": values}
    kinds = {_json_type(v) for v in values}
    if len(kinds) == 1 and None not in kinds:
        schema = {"type": kinds.pop(), "enum": values}
    return schema


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _is_typeddict(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__") \
        and hasattr(tp, "__annotations__")


def type_schema(tp, depth: int = 0) -> dict:
    """The JSON Schema of one type hint (``{}`` when any value fits or the hint is not understood)."""
    if depth > 12 or tp is _Unknown or tp is EMPTY or tp is object or _is_inspect_empty(tp):
        return {}
    if tp is None:
        return {"type": "null"}
    if isinstance(tp, str):
        return type_schema(_evaluate(tp, _namespace(None)), depth + 1)
    simple = _SIMPLE.get(tp) if isinstance(tp, type) else None
    if simple is not None:
        return dict(simple)
    if _UNION_TYPE is not None and isinstance(tp, _UNION_TYPE):  # ``X | Y``: typing.get_args gives __args__
        return _any_of([type_schema(a, depth + 1) for a in tp.__args__])
    if type(tp) is type and tp in _PLAIN_HINTS:  # ``list``, ``dict``, ...: no origin, no arguments
        return _container_schema(tp, (), depth)
    typing = _typing()  # past the builtin classes: the hint may be a typing construct
    if tp is typing.Any:
        return {}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    annotated = getattr(typing, "Annotated", None)
    if annotated is not None and origin is annotated:
        schema = dict(type_schema(args[0], depth + 1))
        texts = [a for a in args[1:] if isinstance(a, str)]
        if texts:
            schema["description"] = texts[0]
        return schema
    if _is_union(origin):
        return _any_of([type_schema(a, depth + 1) for a in args])
    if origin is typing.Literal:
        return _enum_schema(list(args))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        members = [m.value for m in tp]
        return _enum_schema(members) if all(_json_value(v) for v in members) else {}
    if hasattr(tp, "__supertype__"):  # typing.NewType
        return type_schema(tp.__supertype__, depth + 1)
    if _is_typeddict(tp):
        return _typeddict_schema(tp, depth)
    if origin is None and isinstance(tp, type):  # dates, decimals, dataclasses, models, ... (convert.py)
        schema = class_schema(tp, type_schema, depth)
        if schema is not None:
            return schema
    return _container_schema(origin if origin is not None else tp, args, depth)


def _container_schema(container, args: tuple, depth: int) -> dict:
    if container is tuple:
        if not args:
            return {"type": "array"}
        if len(args) == 2 and args[1] is Ellipsis:
            return _array(type_schema(args[0], depth + 1))
        if args == ((),):
            return {"type": "array", "maxItems": 0}
        items = [type_schema(a, depth + 1) for a in args]
        return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
    if container in _SETS:
        schema = _array(type_schema(args[0], depth + 1) if args else {})
        schema["uniqueItems"] = True
        return schema
    if container in _MAPS:
        schema = {"type": "object"}
        if len(args) == 2:
            values = type_schema(args[1], depth + 1)
            if values:
                schema["additionalProperties"] = values
        return schema
    if container in _ARRAYS:
        return _array(type_schema(args[0], depth + 1) if args else {})
    return {}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items} if items else {"type": "array"}


def _typeddict_schema(tp, depth: int) -> dict:
    try:
        hints = _typing().get_type_hints(tp, include_extras=True)
    except Exception:
        hints = dict(getattr(tp, "__annotations__", {}))
    required = getattr(tp, "__required_keys__", None)
    if required is None:
        required = set(hints) if getattr(tp, "__total__", True) else set()
    schema = {"type": "object", "properties": {k: type_schema(v, depth + 1) for k, v in hints.items()}}
    if required:
        schema["required"] = sorted(required)
    return schema


def _nullable(schema: dict) -> dict:
    """``schema`` that also admits null (a parameter whose default is None)."""
    if not schema or _admits_null(schema):
        return schema
    if "type" in schema and "enum" not in schema and "anyOf" not in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return dict(schema, type=types + ["null"])
    if "enum" in schema and set(schema) <= {"type", "enum", "description"}:
        out = dict(schema, enum=list(schema["enum"]) + [None])
        out.pop("type", None)
        return out
    description = schema.get("description")
    inner = {k: v for k, v in schema.items() if k != "description"}
    out = {"anyOf": (inner["anyOf"] if set(inner) == {"anyOf"} else [inner]) + [{"type": "null"}]}
    if description is not None:
        out["description"] = description
    return out


def _admits_null(schema: dict) -> bool:
    t = schema.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return True
    if "enum" in schema and None in schema["enum"]:
        return True
    return any(_admits_null(s) for s in schema.get("anyOf", ()))
