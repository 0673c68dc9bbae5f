"""JSON Schema for tool parameters, from signatures and type hints, and the argument checks built from it.

This is the one place where a ToolSpec gets its JSON-Schema form (``input_schema``, PROTOCOL.md section 4):

- ``input_schema(func)`` reads a callable's signature, its type hints (resolved like
  ``typing.get_type_hints``, with a fallback for hints that do not evaluate on this Python) and the
  parameter descriptions of its docstring (Google, NumPy and reST styles);
- ``ensure_input_schema(spec)`` fills ``input_schema`` into a ToolSpec that lacks one, from the
  annotation texts of its ``parameters`` (specs an adapter built itself, or the generic adapter's);
- ``compile_check(schema)`` turns a schema into a fast check the dispatcher runs on each argument before a
  tool runs (``invalid_arguments`` naming the parameter).

Type mapping: ``int`` -> integer, ``float`` -> number, ``str`` -> string, ``bool`` -> boolean, ``bytes`` ->
string with ``format: binary``, ``None`` -> null, ``list[X]``/``Sequence[X]``/``set[X]``/``tuple[X, ...]`` ->
array, ``tuple[X, Y]`` -> array with ``prefixItems``, ``dict[str, V]``/``Mapping`` -> object, ``TypedDict`` ->
object with properties, ``Optional[X]``/``Union``/``X | Y`` -> ``anyOf`` (or a list of types), ``Literal`` and
``Enum`` -> ``enum``, ``Annotated[X, "text"]`` -> X with that description, ``NewType`` -> its base;
``Any``, ``object``, classes and anything else -> ``{}`` (any value).
"""

from __future__ import annotations

import collections.abc as cabc
import enum
import inspect
import math
import re
import sys
import types

__all__ = ["type_schema", "input_schema", "param_descriptions", "ensure_input_schema", "compile_check",
           "MAX_ITEMS_CHECKED"]

# Arrays are checked element by element up to this many items; the rest are trusted (a 10,000-float
# argument must not cost a millisecond of checks per call).
MAX_ITEMS_CHECKED = 256

_P = inspect.Parameter
_NoneType = type(None)
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


def _typing():
    """The ``typing`` module, imported on first need (a dict lookup after that).

    typing costs an idle worker about 0.35 MB, and tools whose hints are builtin classes (``a: int``,
    ``name: "str" = "x"``) or absent never need it: ``_plain_hints`` and the top of ``type_schema`` handle those
    without it. Anything else (``Optional``, ``list[int]``, a class of the adapter's) imports it here.
    """
    import typing

    return typing


# ------------------------------------------------------------------------------------------- hints


def _namespace(func) -> dict:
    ns = dict(vars(_typing()))
    ns.update(vars(__import__("builtins")))
    target = inspect.unwrap(getattr(func, "__func__", func)) if func is not None else None
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


# --------------------------------------------------------------------------------------- type -> schema


_UNION_TYPE = getattr(__import__("types"), "UnionType", None)  # ``X | Y`` (Python 3.10+)


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
    if depth > 12 or tp is _Unknown or tp is _P.empty or tp is object:
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


# ----------------------------------------------------------------------------------------- docstrings

_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments)\s*:\s*$")
_GOOGLE_ITEM = re.compile(r"^(\s*)\*{0,2}([A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_HEAD = re.compile(r"^\s*(Parameters|Other Parameters)\s*$")
_NUMPY_ITEM = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*(:.*)?$")
_REST_ITEM = re.compile(r"^\s*:param\s+(?:[^:]*\s)?([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$")


def param_descriptions(doc) -> dict:
    """``{parameter: description}`` from a docstring in Google, NumPy or reST (``:param x:``) style."""
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    found = {}
    _google(lines, found)
    _numpy(lines, found)
    _rest(lines, found)
    return found


def _google(lines: list, found: dict) -> None:
    i = 0
    while i < len(lines):
        if not _SECTION.match(lines[i]):
            i += 1
            continue
        i += 1
        indent = None
        name = None
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                if i < len(lines) and lines[i].strip() and not lines[i].startswith((" ", "\t")):
                    break
                continue
            lead = len(line) - len(line.lstrip())
            if lead == 0:
                break
            m = _GOOGLE_ITEM.match(line)
            if m and (indent is None or lead == indent):
                indent = lead
                name = m.group(2)
                found.setdefault(name, m.group(4).strip())
            elif name is not None and indent is not None and lead > indent:
                found[name] = (found[name] + " " + line.strip()).strip()
            i += 1


def _numpy(lines: list, found: dict) -> None:
    i = 0
    while i < len(lines) - 1:
        if not (_NUMPY_HEAD.match(lines[i]) and set(lines[i + 1].strip()) == {"-"}):
            i += 1
            continue
        i += 2
        name = None
        base = None
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            if i + 1 < len(lines) and lines[i + 1].strip() and set(lines[i + 1].strip()) == {"-"}:
                break  # the next section
            lead = len(line) - len(line.lstrip())
            m = _NUMPY_ITEM.match(line)
            if m and (base is None or lead == base):
                base = lead
                name = m.group(2)
                found.setdefault(name, "")
            elif name is not None and base is not None and lead > base:
                found[name] = (found[name] + " " + line.strip()).strip()
            else:
                break
            i += 1


def _rest(lines: list, found: dict) -> None:
    name = None
    for line in lines:
        m = _REST_ITEM.match(line)
        if m:
            name = m.group(1)
            found.setdefault(name, m.group(2).strip())
        elif name is not None and line.startswith((" ", "\t")) and line.strip() and not line.strip().startswith(":"):
            found[name] = (found[name] + " " + line.strip()).strip()
        else:
            name = None


# --------------------------------------------------------------------------------------- input schema


def _takes_params_dict(params: list) -> bool:
    # Snakepit's style: a method whose only parameter is ``params`` gets the whole argument map.
    return len(params) == 1 and params[0].name == "params" and params[0].default is _P.empty \
        and params[0].kind in (_P.POSITIONAL_OR_KEYWORD, _P.POSITIONAL_ONLY)


def input_schema(func, sig: inspect.Signature | None = None, skip: tuple = ()) -> dict:
    """The JSON Schema of the keyword arguments ``func`` accepts (an ``object`` schema).

    Args:
        func: the tool (a bound method, a function, or any callable with a signature).
        sig: its signature, if already known (``stream`` removed, for instance).
        skip: parameter names that are not arguments (a stream sender).
    """
    if sig is None:
        sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if p.name not in skip]
    if _takes_params_dict(params):
        return {"type": "object", "additionalProperties": True}
    hints = _hints(func)
    try:
        docs = param_descriptions(inspect.getdoc(func))
    except Exception:
        docs = {}
    return _object_schema(params, lambda p: hints.get(p.name, p.annotation), docs)


def _object_schema(params: list, hint_of, docs: dict) -> dict:
    properties, required, extra = {}, [], False
    for p in params:
        kind = p.kind
        if kind is _P.VAR_POSITIONAL or kind is _P.POSITIONAL_ONLY:
            continue  # cannot be passed by name
        hint = hint_of(p)
        if kind is _P.VAR_KEYWORD:
            extra = type_schema(hint) or True
            continue
        schema = dict(type_schema(hint))
        if p.default is not _P.empty:
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

    _KINDS = {"positional_only": _P.POSITIONAL_ONLY, "positional_or_keyword": _P.POSITIONAL_OR_KEYWORD,
              "var_positional": _P.VAR_POSITIONAL, "keyword_only": _P.KEYWORD_ONLY,
              "var_keyword": _P.VAR_KEYWORD}

    def __init__(self, entry: dict) -> None:
        self.name = entry.get("name")
        self.kind = self._KINDS.get(entry.get("kind"), _P.POSITIONAL_OR_KEYWORD)
        if "default" in entry:
            self.default = entry["default"]
        else:
            self.default = _P.empty if entry.get("required", True) else _NO_ENCODABLE_DEFAULT
        self.annotation = entry.get("annotation", _P.empty)


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


# -------------------------------------------------------------------------------------------- checks

# Values the checks understand: what the codecs decode. Anything else (a resolved object reference, a
# numpy array or a datetime from an extended codec tag) is accepted as it is.
_PLAIN = frozenset([_NoneType, bool, int, float, str, bytes, bytearray, list, tuple, dict])


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_name(value) -> str:
    return {_NoneType: "null", bool: "boolean", int: "integer", float: "number", str: "string",
            bytes: "bytes", bytearray: "bytes", list: "array", tuple: "array", dict: "object"}.get(
        type(value), type(value).__name__)


def _is_type(value, name: str, fmt) -> bool:
    t = type(value)
    if name == "string":
        if fmt == "binary":
            return t in (bytes, bytearray)
        return t is str
    if name == "integer":
        return t is int or (t is float and value.is_integer())
    if name == "number":
        return t is int or t is float
    if name == "boolean":
        return t is bool
    if name == "null":
        return value is None
    if name == "array":
        return t is list or t is tuple
    if name == "object":
        return t is dict
    return True


def _same(a, b) -> bool:
    return a == b and (type(a) is bool) == (type(b) is bool)


def _path(base: str, key) -> str:
    return "%s[%d]" % (base, key) if isinstance(key, int) else ("%s.%s" % (base, key) if base else str(key))


def compile_check(schema):
    """A function ``check(value, path) -> problem text or None`` for ``schema``; None if it accepts anything.

    Checked: ``type`` (one or a list), ``enum``, ``const``, ``properties``, ``required``,
    ``additionalProperties``, ``items``, ``prefixItems``, ``minItems``/``maxItems``, ``minLength``/``maxLength``,
    ``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum``, ``anyOf``/``oneOf``/``allOf``. Other
    keywords are ignored; values of types the codecs do not produce are accepted.
    """
    if not isinstance(schema, dict) or not schema:
        return None
    steps = []
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        fmt = schema.get("format")

        def check_type(value, path, names=names, fmt=fmt):
            for name in names:
                if _is_type(value, name, fmt):
                    return None
            want = " or ".join("bytes" if (n == "string" and fmt == "binary") else n for n in names)
            return "%s: expected %s, got %s %s" % (path, want, _type_name(value), _short(value))

        steps.append(check_type)
    if "enum" in schema:
        options = list(schema["enum"])

        def check_enum(value, path, options=options):
            if any(_same(value, o) for o in options):
                return None
            return "%s: expected one of %s, got %s" % (path, ", ".join(_short(o) for o in options), _short(value))

        steps.append(check_enum)
    if "const" in schema:
        const = schema["const"]
        steps.append(lambda v, p, c=const: None if _same(v, c) else "%s: expected %s" % (p, _short(c)))
    _number_steps(schema, steps)
    _string_steps(schema, steps)
    _array_steps(schema, steps)
    _object_steps(schema, steps)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            alts = [compile_check(s) for s in schema[key]]
            if any(a is None for a in alts):
                continue

            def check_any(value, path, alts=alts):
                problems = [a(value, path) for a in alts]
                if any(p is None for p in problems):
                    return None
                # The form whose type fits but whose inside does not says more than "none of the forms".
                deeper = [p for p in problems if not p.startswith(path + ": ")]
                if len(problems) == 1 or len(deeper) == 1:
                    return (deeper or problems)[0]
                return "%s: matches none of the %d allowed forms (%s)" % (path, len(problems), problems[0])

            steps.append(check_any)
    for sub in schema.get("allOf") or ():
        c = compile_check(sub)
        if c is not None:
            steps.append(c)
    if not steps:
        return None
    if len(steps) == 1 and types is not None:  # a type alone (the common hint): most values pass on sight
        passing = _passing_types(names, fmt)
        check_type = steps[0]

        def check_only_type(value, path):
            t = type(value)
            if t in passing or t not in _PLAIN:
                return None
            return check_type(value, path)

        return check_only_type

    def check(value, path):
        if type(value) not in _PLAIN:
            return None
        for step in steps:
            problem = step(value, path)
            if problem is not None:
                return problem
        return None

    return check


def _passing_types(names, fmt) -> frozenset:
    """The value types that satisfy one of the type ``names`` whatever the value (see ``_is_type``)."""
    passing = set()
    for name in names:
        if name == "string":
            passing.update((bytes, bytearray) if fmt == "binary" else (str,))
        elif name in ("integer", "number"):
            passing.update((int,) if name == "integer" else (int, float))  # an integral float is checked
        elif name == "boolean":
            passing.add(bool)
        elif name == "null":
            passing.add(_NoneType)
        elif name == "array":
            passing.update((list, tuple))
        elif name == "object":
            passing.add(dict)
        else:  # a type name _is_type does not know accepts anything
            passing.update(_PLAIN)
    return frozenset(passing)


def _number_steps(schema: dict, steps: list) -> None:
    bounds = [(k, schema[k]) for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
              if isinstance(schema.get(k), (int, float)) and not isinstance(schema.get(k), bool)]
    if not bounds:
        return
    tests = {"minimum": (lambda v, b: v >= b, ">="), "maximum": (lambda v, b: v <= b, "<="),
             "exclusiveMinimum": (lambda v, b: v > b, ">"), "exclusiveMaximum": (lambda v, b: v < b, "<")}

    def check_bounds(value, path):
        if type(value) not in (int, float):
            return None
        for key, bound in bounds:
            ok, sign = tests[key]
            if not ok(value, bound):
                return "%s: must be %s %s, got %s" % (path, sign, bound, _short(value))
        return None

    steps.append(check_bounds)


def _string_steps(schema: dict, steps: list) -> None:
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    pattern = schema.get("pattern")
    regex = None
    if isinstance(pattern, str):
        try:
            regex = re.compile(pattern)
        except re.error:
            regex = None
    if lo is None and hi is None and regex is None:
        return

    def check_string(value, path):
        if type(value) is not str:
            return None
        if isinstance(lo, int) and len(value) < lo:
            return "%s: must have at least %d characters, got %d" % (path, lo, len(value))
        if isinstance(hi, int) and len(value) > hi:
            return "%s: must have at most %d characters, got %d" % (path, hi, len(value))
        if regex is not None and not regex.search(value):
            return "%s: must match %s, got %s" % (path, pattern, _short(value))
        return None

    steps.append(check_string)


def _array_steps(schema: dict, steps: list) -> None:
    items = compile_check(schema.get("items")) if isinstance(schema.get("items"), dict) else None
    prefix = [compile_check(s) for s in schema.get("prefixItems") or () if isinstance(s, dict)]
    lo, hi = schema.get("minItems"), schema.get("maxItems")
    if items is None and not any(prefix) and lo is None and hi is None:
        return

    def check_array(value, path):
        t = type(value)
        if t is not list and t is not tuple:
            return None
        n = len(value)
        if isinstance(lo, int) and n < lo:
            return "%s: expected at least %d items, got %d" % (path, lo, n)
        if isinstance(hi, int) and n > hi:
            return "%s: expected at most %d items, got %d" % (path, hi, n)
        for i, c in enumerate(prefix[:n]):
            if c is not None:
                problem = c(value[i], _path(path, i))
                if problem is not None:
                    return problem
        if items is not None:
            for i in range(len(prefix), min(n, MAX_ITEMS_CHECKED)):
                problem = items(value[i], _path(path, i))
                if problem is not None:
                    return problem
        return None

    steps.append(check_array)


def _object_steps(schema: dict, steps: list) -> None:
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    checks = {k: c for k, c in ((k, compile_check(s)) for k, s in props.items()) if c is not None}
    required = [r for r in schema.get("required") or () if isinstance(r, str)]
    extra = schema.get("additionalProperties", True)
    extra_check = compile_check(extra) if isinstance(extra, dict) else None
    closed = extra is False
    if not checks and not required and not closed and extra_check is None:
        return

    def check_object(value, path):
        if type(value) is not dict:
            return None
        for name in required:
            if name not in value:
                return "%s: missing required key %r" % (path, name)
        for key, item in value.items():
            c = checks.get(key)
            if c is not None:
                problem = c(item, _path(path, key))
            elif key in props:
                continue
            elif closed:
                return "%s: unexpected key %r" % (path, key)
            elif extra_check is not None:
                problem = extra_check(item, _path(path, key))
            else:
                continue
            if problem is not None:
                return problem
        return None

    steps.append(check_object)
