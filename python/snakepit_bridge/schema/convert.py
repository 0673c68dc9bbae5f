"""Typed parameters: turn a received value into the Python type its parameter is annotated with.

Values arrive in their wire forms (docs/VALUES.md): a date as ISO text, a Decimal as text, a dataclass as an
object, a tuple as an array, a dict's int keys as text. A tool whose parameter says what it wants gets that:

    datetime, date, time     <- ISO 8601 text (or a datetime from a JS Date)
    timedelta                <- seconds            Decimal, Fraction <- text or number
    complex                  <- {real, imag}, a number or text
    UUID, Path (and subclasses) <- text             Enum subclass <- a member's value
    float                    <- an integer         bytes <- bytes
    dataclass, NamedTuple, TypedDict, pydantic model (v1, v2) <- an object (NamedTuple: an array too)
    list[X], tuple[X, ...], tuple[X, Y], set[X], frozenset[X], dict[K, V], Optional/Union of these
        <- arrays and objects whose items (and keys: int, float, bool, date, ... from their text) are converted

``converter(hint)`` is built once per parameter when the tool is discovered; it is None for hints whose values
arrive as they are (str, int, bool, list, dict, Any, ...), so most parameters cost nothing per call. A value
that does not convert raises ValueError or TypeError, which the dispatcher reports as ``invalid_arguments``.
"""

from __future__ import annotations

import sys

from .hints import _NoneType, _typing

# The datetime module, once a hint names one of its classes: a worker whose tools take no date does not load it
# (docs/PERFORMANCE.md, "Start of one worker"). The converters below are made only for such hints.
_dt = None


def _datetime_module():
    global _dt
    if _dt is None:
        import datetime as _dt
    return _dt

__all__ = ["converter", "class_schema"]

_MAX_DEPTH = 12


def _datetime(value):
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        return _dt.datetime.fromisoformat(text)
    raise TypeError("expected a date and time (ISO 8601 text), got %s" % type(value).__name__)


def _date(value):
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        return _dt.date.fromisoformat(value[:10] if len(value) > 10 and value[10] in "T " else value)
    raise TypeError("expected a date (ISO 8601 text), got %s" % type(value).__name__)


def _time(value):
    if isinstance(value, _dt.time):
        return value
    if isinstance(value, str):
        return _dt.time.fromisoformat(value)
    raise TypeError("expected a time (ISO 8601 text), got %s" % type(value).__name__)


def _timedelta(value):
    if isinstance(value, _dt.timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _dt.timedelta(seconds=value)
    raise TypeError("expected a duration in seconds, got %s" % type(value).__name__)


def _float(value):
    return float(value) if type(value) is int else value


def _number_or_text(cls):
    def convert(value):
        if isinstance(value, cls):
            return value
        if isinstance(value, float):
            return cls(repr(value))  # the float's shortest text, not its binary expansion
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            return cls(value)
        raise TypeError("expected text or a number, got %s" % type(value).__name__)

    return convert


def _complex(value):
    if isinstance(value, dict) and set(value) <= {"real", "imag"}:
        return complex(value.get("real", 0), value.get("imag", 0))
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return complex(value)
    raise TypeError("expected {real, imag}, got %s" % type(value).__name__)


def _from_text(cls):
    def convert(value):
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls(value)
        raise TypeError("expected text for %s, got %s" % (cls.__name__, type(value).__name__))

    return convert


def _enum(cls):
    def convert(value):
        return value if isinstance(value, cls) else cls(value)

    return convert


def _text_key(kind):
    """A dict key converter for int, float and bool keys, which plain maps carry as text."""
    def key(value):
        if isinstance(value, str):
            if kind is bool:
                if value not in ("true", "false"):
                    raise ValueError("expected true or false, got %r" % value)
                return value == "true"
            return kind(value)
        return float(value) if kind is float and type(value) is int else value

    return key


def _hints_of(cls) -> dict:
    try:
        return _typing().get_type_hints(cls)
    except Exception:
        return dict(getattr(cls, "__annotations__", {}))


def _fields(hints: dict, depth: int) -> dict:
    return {name: c for name, c in ((n, converter(h, depth + 1)) for n, h in hints.items()) if c is not None}


def _dataclass(cls, depth: int):
    fields = _fields(_hints_of(cls), depth)

    def convert(value):
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise TypeError("expected an object for %s, got %s" % (cls.__name__, type(value).__name__))
        return cls(**{k: fields[k](v) if k in fields and v is not None else v for k, v in value.items()})

    return convert


def _namedtuple(cls, depth: int):
    fields = _fields(_hints_of(cls), depth)
    names = cls._fields

    def convert(value):
        if isinstance(value, cls):
            return value
        if isinstance(value, (list, tuple)):
            value = dict(zip(names, value))
        if not isinstance(value, dict):
            raise TypeError("expected an array or object for %s, got %s" % (cls.__name__, type(value).__name__))
        return cls(**{k: fields[k](v) if k in fields and v is not None else v for k, v in value.items()})

    return convert


def _typeddict(cls, depth: int):
    fields = _fields(_hints_of(cls), depth)
    if not fields:
        return None

    def convert(value):
        if not isinstance(value, dict):
            return value
        return {k: fields[k](v) if k in fields and v is not None else v for k, v in value.items()}

    return convert


def _pydantic(cls):
    validate = getattr(cls, "model_validate", None) or getattr(cls, "parse_obj")

    def convert(value):
        return value if isinstance(value, cls) else validate(value)

    return convert


def _is_pydantic(cls) -> bool:
    return isinstance(cls, type) and (
        callable(getattr(cls, "model_validate", None)) and hasattr(cls, "model_fields")
        or callable(getattr(cls, "parse_obj", None)) and hasattr(cls, "__fields__"))


def _is_typeddict(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__") \
        and hasattr(tp, "__annotations__")


def _class_converter(cls, depth: int):
    if cls is float:
        return _float
    if cls is complex:
        return _complex
    if cls.__module__ == "datetime":
        dt = _datetime_module()
        simple = {dt.datetime: _datetime, dt.date: _date, dt.time: _time, dt.timedelta: _timedelta}.get(cls)
        if simple is not None:
            return simple
    name = cls.__name__
    if cls.__module__ == "decimal" and name == "Decimal" or cls.__module__ == "fractions" and name == "Fraction":
        return _number_or_text(cls)
    if cls.__module__ == "uuid" and name == "UUID":
        return _from_text(cls)
    pathlib = sys.modules.get("pathlib")
    if pathlib is not None and issubclass(cls, pathlib.PurePath):
        return _from_text(cls)
    enum = sys.modules.get("enum")
    if enum is not None and issubclass(cls, enum.Enum):
        return _enum(cls)
    if hasattr(cls, "__dataclass_fields__"):
        return _dataclass(cls, depth)
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return _namedtuple(cls, depth)
    if _is_typeddict(cls):
        return _typeddict(cls, depth)
    if _is_pydantic(cls):
        return _pydantic(cls)
    return None


def converter(hint, depth: int = 0):
    """A function that converts a received value to ``hint``'s type, or None when none is needed.

    Read from the hint's ``__origin__``/``__args__`` so builtin generics (``list[date]``) never import typing.
    """
    if depth > _MAX_DEPTH or hint is None or hint is _NoneType:
        return None
    origin = getattr(hint, "__origin__", None)
    if origin is None:
        if isinstance(hint, type):
            return None if hint in (str, int, bool, bytes, object, list, dict) else _class_converter(hint, depth)
        if type(hint).__name__ == "UnionType":  # X | Y
            return _union(hint.__args__, depth)
        return None
    if hasattr(hint, "__metadata__"):  # Annotated[X, ...]: its origin is X
        return converter(origin, depth + 1)
    args = getattr(hint, "__args__", None) or ()
    typing = sys.modules.get("typing")
    if typing is not None and origin is typing.Union:
        return _union(args, depth)
    if typing is not None and origin is typing.Literal:
        return None
    import collections.abc as cabc

    if origin in (list, cabc.Sequence, cabc.MutableSequence, cabc.Iterable, cabc.Collection):
        item = converter(args[0], depth + 1) if args else None
        return None if item is None else (lambda v: [item(x) for x in v] if isinstance(v, list) else v)
    if origin in (set, frozenset, cabc.Set, cabc.MutableSet):
        return _set(frozenset if origin is frozenset else set, converter(args[0], depth + 1) if args else None)
    if origin is tuple:
        return _tuple(args, depth)
    if origin in (dict, cabc.Mapping, cabc.MutableMapping):
        return _dict(args, depth)
    return None


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _set(kind, item):
    def convert(value):
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise TypeError("expected an array, got %s" % type(value).__name__)
        return kind(_hashable(item(v) if item is not None else v) for v in value)

    return convert


def _tuple(args, depth):
    if not args or args == ((),):
        return lambda v: tuple(v) if isinstance(v, list) else v
    if len(args) == 2 and args[1] is Ellipsis:
        item = converter(args[0], depth + 1)
        return lambda v: tuple(item(x) if item else x for x in v) if isinstance(v, (list, tuple)) else v
    items = [converter(a, depth + 1) for a in args]
    return lambda v: tuple(c(x) if c else x for c, x in zip(items, v)) if isinstance(v, (list, tuple)) else v


def _dict(args, depth):
    if len(args) != 2:
        return None
    key_hint, value_hint = args
    value = converter(value_hint, depth + 1)
    # int, float and bool keys arrive as text (plain maps); others (tuples from a PyDict, dates as text) convert
    key = _text_key(key_hint) if key_hint in (int, float, bool) else converter(key_hint, depth + 1)
    if key is None and value is None:
        return None

    def convert(v):
        if not isinstance(v, dict):
            return v
        return {key(k) if key else k: value(x) if value and x is not None else x for k, x in v.items()}

    return convert


def _union(args, depth):
    arms = [(a, converter(a, depth + 1)) for a in args if a is not _NoneType and a is not None]
    if not any(c for _, c in arms):
        return None

    def convert(value):
        if value is None:
            return None
        for arm, _c in arms:
            if isinstance(arm, type) and type(value) is arm:
                return value
        error = None
        for _arm, c in arms:
            if c is None:
                continue
            try:
                return c(value)
            except (TypeError, ValueError) as exc:
                error = exc
        if any(c is None for _, c in arms):
            return value  # an arm that takes the value as it is
        raise error

    return convert


# ------------------------------------------------------------------------------------ class schemas


def class_schema(cls, type_schema, depth: int):
    """The JSON Schema of a class the type table does not list (None for classes that take anything)."""
    if getattr(cls, "__module__", None) == "datetime":
        dt = _datetime_module()
        fmt = {dt.datetime: "date-time", dt.date: "date", dt.time: "time"}.get(cls)
        if fmt is not None:
            return {"type": "string", "format": fmt}
        if cls is dt.timedelta:
            return {"type": "number", "description": "a duration in seconds"}
    if cls is complex:
        return {"anyOf": [{"type": "number"}, {"type": "object", "properties": {
            "real": {"type": "number"}, "imag": {"type": "number"}}, "required": ["real", "imag"]}]}
    mod, name = cls.__module__, cls.__name__
    if mod == "decimal" and name == "Decimal" or mod == "fractions" and name == "Fraction":
        return {"type": ["string", "number"]}
    if mod == "uuid" and name == "UUID":
        return {"type": "string", "format": "uuid"}
    pathlib = sys.modules.get("pathlib")
    if pathlib is not None and issubclass(cls, pathlib.PurePath):
        return {"type": "string"}
    if hasattr(cls, "__dataclass_fields__"):
        import dataclasses

        hints = _hints_of(cls)
        required = [f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        return _object(hints, required, type_schema, depth)
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        hints = _hints_of(cls)
        defaults = getattr(cls, "_field_defaults", {})
        obj = _object(hints, [n for n in cls._fields if n not in defaults], type_schema, depth)
        items = [type_schema(hints.get(n), depth + 1) for n in cls._fields]
        return {"anyOf": [obj, {"type": "array", "prefixItems": items, "maxItems": len(items)}]}
    if _is_pydantic(cls):
        fields = getattr(cls, "model_fields", None)
        if isinstance(fields, dict):  # pydantic 2: FieldInfo with annotation / is_required()
            hints = {n: f.annotation for n, f in fields.items()}
            required = [n for n, f in fields.items() if f.is_required()]
        else:  # pydantic 1: ModelField with outer_type_ / required
            fields = cls.__fields__
            hints = {n: f.outer_type_ for n, f in fields.items()}
            required = [n for n, f in fields.items() if f.required]
        return _object(hints, required, type_schema, depth, closed=False)
    return None


def _object(hints: dict, required: list, type_schema, depth: int, closed: bool = True) -> dict:
    schema = {"type": "object", "properties": {n: type_schema(h, depth + 1) for n, h in hints.items()}}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema
