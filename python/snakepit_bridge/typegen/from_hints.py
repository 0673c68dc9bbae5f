"""Runtime type hints (what ``typing.get_type_hints`` returns) -> model nodes (model.py).

``HintReader(defs).node(hint)`` walks one hint: typing constructs by their origin and arguments, classes by
their qualified name (known.py) and, when the name is not known, by what they are: an Enum, a TypedDict, a
NamedTuple, a dataclass or a pydantic model become a definition in ``defs`` with their fields; any other class
is an object that stays in the worker.
"""

from __future__ import annotations

import enum
import inspect

from ..schema.hints import _hints, _typing, _Unknown
from .docs import doc_parts
from .known import SPECIAL_FORMS, known
from .model import ANY, MAX_DEPTH, default_text, json_value, node, union

__all__ = ["HintReader", "qualname_of", "BIGINT_MARKERS"]

_NoneType = type(None)
BIGINT_MARKERS = ("snakepit_bridge.jstypes.BigIntMarker",)


def qualname_of(obj) -> str:
    module = getattr(obj, "__module__", None) or "builtins"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return "%s.%s" % (module, name)


def _class_doc(cls) -> dict:
    try:
        doc = vars(cls).get("__doc__")  # its own: not a base class's (Enum's, NamedTuple's)
    except TypeError:
        doc = None
    if not isinstance(doc, str):
        return {}
    if doc.startswith(cls.__name__ + "("):  # the signature dataclasses write as a docstring
        return {}
    return doc_parts(doc)


class HintReader:
    """Turns runtime hints into nodes, collecting named types into ``defs`` (a model.Defs)."""

    def __init__(self, defs) -> None:
        self.defs = defs

    def node(self, tp, depth: int = 0) -> dict:
        try:
            return self._node(tp, depth)
        except Exception:  # a hint this reader does not understand: any value, rather than a failed run
            return ANY

    def _node(self, tp, depth: int) -> dict:
        if depth > MAX_DEPTH:
            return ANY
        if tp is inspect.Parameter.empty or tp is _Unknown or isinstance(tp, str):
            return ANY
        if tp is None or tp is _NoneType:
            return node("none")
        typing = _typing()
        if isinstance(tp, typing.TypeVar):
            return self._typevar(tp, depth)
        if hasattr(tp, "__supertype__") and callable(tp):  # NewType
            return self._node(tp.__supertype__, depth + 1)
        if isinstance(tp, getattr(typing, "ForwardRef", ())):
            return ANY
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is not None:
            return self._generic(tp, origin, args, depth)
        if tp is typing.Any:
            return ANY
        if isinstance(tp, type):
            return self._class(tp, depth)
        special = getattr(tp, "_name", None)  # bare typing.List, typing.Callable, ...
        if isinstance(special, str):
            found = known("typing." + special, [])
            if found is not None:
                return found
            if SPECIAL_FORMS.get("typing." + special) == "callable":
                return node("obj", cls="collections.abc.Callable")
        return ANY

    def _typevar(self, tv, depth: int) -> dict:
        if tv.__constraints__:
            options = [self._node(c, depth + 1) for c in tv.__constraints__]
        elif tv.__bound__ is not None:
            options = [self._node(tv.__bound__, depth + 1)]
        else:
            options = []
        return node("tv", name=tv.__name__, of=options)

    def _generic(self, tp, origin, args, depth: int) -> dict:
        typing = _typing()
        union_type = getattr(__import__("types"), "UnionType", None)
        if origin is typing.Union or (union_type is not None and origin is union_type):
            return union([self._node(a, depth + 1) for a in args])
        if origin is typing.Literal:
            values = [a.value if isinstance(a, enum.Enum) else a for a in args]
            if all(json_value(v) for v in values):
                return node("lit", of=values)
            return ANY
        annotated = getattr(typing, "Annotated", None)
        if annotated is not None and origin is annotated:
            inner = self._node(args[0], depth + 1)
            if inner.get("k") == "int" and any(qualname_of(type(m)) in BIGINT_MARKERS for m in args[1:]):
                return node("bigint")
            return inner
        name = qualname_of(origin) if isinstance(origin, type) else "typing." + str(getattr(origin, "_name", ""))
        form = SPECIAL_FORMS.get(name)
        if form == "callable" or name in ("collections.abc.Callable",):
            return node("obj", cls="collections.abc.Callable")
        if form == "inner":
            return self._node(args[0], depth + 1) if args else ANY
        if form == "bool":
            return node("bool")
        items = [] if args == ((),) else [self._arg(a, depth) for a in args]
        if name in ("builtins.tuple",) and len(args) == 2 and args[1] is Ellipsis:
            return node("list", of=self._node(args[0], depth + 1))
        found = known(name, items)
        if found is not None:
            return found
        if isinstance(origin, type):
            return self._class(origin, depth)
        return ANY

    def _arg(self, a, depth: int) -> dict:
        if a is Ellipsis:
            return ANY
        if isinstance(a, (list, tuple)):  # Callable's argument list
            return ANY
        return self._node(a, depth + 1)

    # ------------------------------------------------------------------------------------------ classes

    def _class(self, cls, depth: int) -> dict:
        name = qualname_of(cls)
        found = known(name, [])
        if found is not None:
            return found
        if issubclass(cls, enum.Enum):
            return self._enum(cls, name)
        if _is_typeddict(cls):
            return self._fields_def(cls, name, "typeddict", depth)
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):
            return self._fields_def(cls, name, "namedtuple", depth)
        if hasattr(cls, "__dataclass_fields__"):
            return self._fields_def(cls, name, "dataclass", depth)
        if _is_pydantic(cls):
            return self._fields_def(cls, name, "model", depth)
        for base in cls.__mro__[1:-1]:  # a subclass of a known class (class Celsius(float)) is that class
            found = known(qualname_of(base), [])
            if found is not None:
                return found
        return node("obj", cls=name)

    def _enum(self, cls, ref: str) -> dict:
        values = [m.value for m in cls]
        if not values or not all(json_value(v) for v in values):
            return node("obj", cls=ref)
        if not self.defs.has(ref):
            self.defs.put(ref, {"kind": "enum", "name": cls.__qualname__, "doc": _class_doc(cls),
                                "values": values, "members": [m.name for m in cls]})
        return node("def", ref=ref)

    def _fields_def(self, cls, ref: str, kind: str, depth: int) -> dict:
        if self.defs.has(ref):
            return node("def", ref=ref)
        self.defs.start(ref)
        try:
            fields = self._fields(cls, kind, depth)
        except Exception:
            self.defs.drop(ref)
            return node("obj", cls=ref)
        doc = _class_doc(cls)
        attributes = doc.pop("attributes", {})
        doc.pop("params", None)
        for f in fields:
            text = f.get("doc") or attributes.get(f["name"])
            if text:
                f["doc"] = text
        self.defs.put(ref, {"kind": kind, "name": cls.__qualname__, "doc": doc, "fields": fields})
        return node("def", ref=ref)

    def _fields(self, cls, kind: str, depth: int) -> list:
        if kind == "model":
            return self._model_fields(cls, depth)
        hints = _class_hints(cls)
        out = []
        if kind == "typeddict":
            required = getattr(cls, "__required_keys__", None)
            if required is None:
                required = set(hints) if getattr(cls, "__total__", True) else set()
            for name, hint in hints.items():
                out.append({"name": name, "type": self.node(hint, depth + 1), "required": name in required})
        elif kind == "namedtuple":
            defaults = getattr(cls, "_field_defaults", {}) or {}
            for name in cls._fields:
                out.append({"name": name, "type": self.node(hints.get(name, ANY), depth + 1),
                            "required": name not in defaults})
        else:  # dataclass
            import dataclasses

            for f in dataclasses.fields(cls):
                has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
                entry = {"name": f.name, "type": self.node(hints.get(f.name, f.type), depth + 1),
                         "required": not has_default and f.init}
                if f.default is not dataclasses.MISSING:
                    text = default_text(f.default)
                    if text is not None:
                        entry["default"] = text
                out.append(entry)
        return out

    def _model_fields(self, cls, depth: int) -> list:
        out = []
        fields = getattr(cls, "model_fields", None)
        if isinstance(fields, dict):  # pydantic v2
            for name, info in fields.items():
                entry = {"name": name, "type": self.node(getattr(info, "annotation", ANY), depth + 1),
                         "required": bool(info.is_required())}
                description = getattr(info, "description", None)
                if isinstance(description, str) and description:
                    entry["doc"] = description
                if not entry["required"]:
                    text = default_text(getattr(info, "default", None))
                    if text is not None:
                        entry["default"] = text
                out.append(entry)
            return out
        for name, info in (getattr(cls, "__fields__", None) or {}).items():  # pydantic v1
            entry = {"name": name, "type": self.node(getattr(info, "outer_type_", ANY), depth + 1),
                     "required": bool(getattr(info, "required", True))}
            out.append(entry)
        return out


def _class_hints(cls) -> dict:
    typing = _typing()
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except Exception:
        hints = {}
        for klass in reversed(cls.__mro__):
            hints.update(getattr(klass, "__annotations__", {}) or {})
        return {k: (_Unknown if isinstance(v, str) else v) for k, v in hints.items()}


def _is_typeddict(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__") \
        and hasattr(tp, "__annotations__")


def _is_pydantic(cls) -> bool:
    return (callable(getattr(cls, "model_validate", None)) and hasattr(cls, "model_fields")) \
        or (callable(getattr(cls, "parse_obj", None)) and hasattr(cls, "__fields__"))


def function_hints(func) -> dict:
    """The resolved type hints of ``func`` (parameters and ``return``), as the dispatcher reads them."""
    try:
        return _hints(func)
    except Exception:
        return {}
