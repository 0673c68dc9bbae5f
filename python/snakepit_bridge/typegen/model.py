"""The type model ``snakepit types`` sends to the host: plain JSON, one node per type, built by ``from_hints``
(runtime type hints) and ``from_stubs`` (``.pyi`` stubs) alike, and rendered as TypeScript by the host
(src/typegen/). A node says what the Python side declares; which JavaScript value that becomes, as an argument
or as a result, is the host's table (docs/TYPES.md), so both directions come from one node.

    {"k": "any"}                          unknown / unannotated / Any / object
    {"k": "never"}                        nothing JavaScript can send (a callable, a class object)
    {"k": "none" | "bool" | "int" | "bigint" | "float" | "str" | "bytes"}
    {"k": "special", "name": "datetime" | "date" | "time" | "timedelta" | "decimal" | "fraction" | "complex"
                             | "uuid" | "path" | "dataframe" | "series" | "dtype"}
    {"k": "lit", "of": [json values]}     Literal[...] (and an Enum's values, through its definition)
    {"k": "list" | "set", "of": T}        list[X], Sequence[X], Iterable[X], tuple[X, ...] / set[X], frozenset[X]
    {"k": "tuple", "of": [T, ...]}        tuple[X, Y]
    {"k": "dict", "key": K, "val": V}     dict[K, V], Mapping[K, V]
    {"k": "union", "of": [T, ...]}        Union, Optional, X | Y (flattened, duplicates removed)
    {"k": "tv", "name": "T", "of": [T]}   a TypeVar: its constraints, or its bound ([] when neither)
    {"k": "def", "ref": "mod.Qual"}       a TypedDict, dataclass, pydantic model, NamedTuple or Enum: see ``defs``
    {"k": "obj", "cls": "mod.Qual"}       any other class: the value stays in the worker (PyRef<'mod.Qual'>)
    {"k": "ndarray", "of": T}             a numpy array, T the item type ({"k": "any"} when not declared)
    {"k": "arraylike", "of": T}           numpy's array-like arguments (an NDArray, a typed array, nested lists)
    {"k": "scalar", "of": T}              a numpy scalar (float64, bool_, ...): T is its plain Python type
    {"k": "iter", "of": T, "async": b}    a generator / iterator result: a stream whose chunks are T

Definitions (``defs``): ``{"kind": "typeddict" | "dataclass" | "model" | "namedtuple" | "enum", "name", "doc",
"fields": [{"name", "type", "required", "doc"?}], "values": [...]}`` keyed by ``module.qualname``.
"""

from __future__ import annotations

import json
import math

__all__ = ["ANY", "NEVER", "node", "union", "Defs", "json_value", "default_text", "MAX_DEPTH", "MAX_UNION"]

MAX_DEPTH = 24  # nesting of one type; deeper parts become any
MAX_UNION = 48  # members of one union; more become any (a generated file stays readable)

ANY = {"k": "any"}
NEVER = {"k": "never"}


def node(kind: str, **fields) -> dict:
    out = {"k": kind}
    out.update(fields)
    return out


def _key(t: dict) -> str:
    return json.dumps(t, sort_keys=True)


def union(parts) -> dict:
    """The union of ``parts``: nested unions flattened, duplicates dropped (first kept), any absorbs all."""
    flat, seen = [], set()
    for part in parts:
        members = part["of"] if part.get("k") == "union" else [part]
        for m in members:
            if m.get("k") == "any":
                return ANY
            if m.get("k") == "never":
                continue
            key = _key(m)
            if key not in seen:
                seen.add(key)
                flat.append(m)
    if not flat:
        return NEVER
    if len(flat) == 1:
        return flat[0]
    if len(flat) > MAX_UNION:
        return ANY
    return {"k": "union", "of": flat}


class Defs:
    """The named types met while describing tools, by ``module.qualname``; each described once."""

    def __init__(self) -> None:
        self.table = {}
        self._pending = set()

    def has(self, ref: str) -> bool:
        return ref in self.table or ref in self._pending

    def start(self, ref: str) -> None:
        self._pending.add(ref)  # a recursive type refers to itself while its fields are read

    def put(self, ref: str, definition: dict) -> None:
        self._pending.discard(ref)
        self.table[ref] = definition

    def drop(self, ref: str) -> None:
        self._pending.discard(ref)

    def sorted(self) -> dict:
        return {k: self.table[k] for k in sorted(self.table)}


def json_value(value, depth: int = 0) -> bool:
    """True when ``value`` is plain JSON (what a Literal or a default can be written as)."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if depth > 6:
        return False
    if isinstance(value, (list, tuple)):
        return len(value) <= 64 and all(json_value(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= 64 and all(isinstance(k, str) and json_value(v, depth + 1) for k, v in value.items())
    return False


def default_text(value):
    """A parameter default as the JSDoc shows it: JSON for plain values, else None (reprs carry addresses and
    vary between runs, which would make the output differ from one generation to the next)."""
    if isinstance(value, tuple):
        value = list(value)
    if json_value(value):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
        return text if len(text) <= 200 else None
    if isinstance(value, float):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return None
