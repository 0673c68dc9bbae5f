"""The classes and typing names the model knows by their qualified name (``module.name``), for both front-ends.

``known(qualname, args)`` maps a class or typing alias, with its type arguments already turned into model nodes,
to a node (model.py), or returns None for a name it does not know (the caller then looks at the class itself:
a TypedDict, a dataclass, an Enum, ... or an object that stays in the worker).

Special forms whose arguments are not types (``Literal``, ``Annotated``, ``Callable``, ``Union``) are handled
by each front-end before it gets here; ``SPECIAL_FORMS`` names them.
"""

from __future__ import annotations

import re

from .model import ANY, NEVER, node, union

__all__ = ["known", "SPECIAL_FORMS", "canonical", "ITERATORS", "AWAITABLES"]

_MODULE_ALIASES = {
    "typing_extensions": "typing",
    "_collections_abc": "collections.abc",
    "collections.abc": "collections.abc",
    "_typeshed": "_typeshed",
    "numpy._typing": "numpy.typing",
    "pandas.core.frame": "pandas",
    "pandas.core.series": "pandas",
    "pandas.core.indexes.base": "pandas",
    "numpy._core.multiarray": "numpy",
    "numpy.core.multiarray": "numpy",
    "pathlib._local": "pathlib",
    "pathlib._abc": "pathlib",
    "datetime": "datetime",
    "_datetime": "datetime",
    "_decimal": "decimal",
    "_pydecimal": "decimal",
}


def canonical(qualname: str) -> str:
    """``typing_extensions.Literal`` -> ``typing.Literal``; ``numpy._typing._array_like.X`` -> ``numpy.typing.X``."""
    module, _, name = qualname.rpartition(".")
    if module.startswith("numpy._typing") or module.startswith("numpy.typing"):
        return "numpy.typing." + name
    return _MODULE_ALIASES.get(module, module) + "." + name


SPECIAL_FORMS = {
    "typing.Literal": "literal",
    "typing.Annotated": "annotated",
    "typing.Union": "union",
    "typing.Optional": "optional",
    "typing.Callable": "callable",
    "collections.abc.Callable": "callable",
    "typing.Concatenate": "callable",
    "typing.ClassVar": "inner",
    "typing.Final": "inner",
    "typing.Required": "inner",
    "typing.NotRequired": "inner",
    "typing.ReadOnly": "inner",
    "typing.TypeGuard": "bool",
    "typing.TypeIs": "bool",
    "typing.Unpack": "any",
}

_SIMPLE = {
    "builtins.int": node("int"),
    "builtins.bool": node("bool"),
    "builtins.float": node("float"),
    "builtins.str": node("str"),
    "builtins.bytes": node("bytes"),
    "builtins.bytearray": node("bytes"),
    "builtins.memoryview": node("bytes"),
    "builtins.complex": node("special", name="complex"),
    "builtins.NoneType": node("none"),
    "types.NoneType": node("none"),
    "builtins.object": ANY,
    "typing.Any": ANY,
    "typing.Text": node("str"),
    "typing.LiteralString": node("str"),
    "typing.Self": ANY,
    "typing.NoReturn": NEVER,
    "typing.Never": NEVER,
    "typing.Hashable": ANY,
    "collections.abc.Hashable": ANY,
    "typing.Sized": ANY,
    "collections.abc.Sized": ANY,
    "typing.SupportsFloat": node("float"),
    "typing.SupportsInt": node("int"),
    "typing.SupportsIndex": node("int"),
    "typing.SupportsAbs": node("float"),
    "typing.SupportsRound": node("float"),
    "typing.SupportsComplex": node("special", name="complex"),
    "typing.SupportsBytes": node("bytes"),
    "_typeshed.ConvertibleToInt": node("union", of=[node("int"), node("str"), node("bytes")]),
    "_typeshed.ConvertibleToFloat": node("union", of=[node("float"), node("str"), node("bytes")]),
    "_typeshed.ReadableBuffer": node("bytes"),
    "_typeshed.WriteableBuffer": node("bytes"),
    "_typeshed.StrPath": node("special", name="path"),
    "_typeshed.StrOrBytesPath": node("special", name="path"),
    "_typeshed.SupportsRichComparison": ANY,
    "_typeshed.SupportsRichComparisonT": ANY,
    "_typeshed.Unused": ANY,
    "_typeshed.Incomplete": ANY,
    "_typeshed.MaybeNone": ANY,
    "datetime.datetime": node("special", name="datetime"),
    "datetime.date": node("special", name="date"),
    "datetime.time": node("special", name="time"),
    "datetime.timedelta": node("special", name="timedelta"),
    "decimal.Decimal": node("special", name="decimal"),
    "fractions.Fraction": node("special", name="fraction"),
    "numbers.Number": node("float"),
    "numbers.Real": node("float"),
    "numbers.Integral": node("int"),
    "numbers.Complex": node("special", name="complex"),
    "uuid.UUID": node("special", name="uuid"),
    "os.PathLike": node("special", name="path"),
    "pandas.DataFrame": node("special", name="dataframe"),
    "pandas.Series": node("special", name="series"),
    "pandas.Index": node("list", of=ANY),
    "pandas.Timestamp": node("special", name="datetime"),
    "pandas.Timedelta": node("special", name="timedelta"),
    "numpy.typing.DTypeLike": node("special", name="dtype"),
    "numpy.typing._DTypeLike": node("special", name="dtype"),
    "numpy.typing._DTypeLikeBool": node("special", name="dtype"),
    "numpy.typing._ShapeLike": node("union", of=[node("int"), node("list", of=node("int"))]),
    "numpy.typing._Shape": node("list", of=node("int")),
    "numpy.typing._NoValueType": NEVER,
    "numpy._globals._NoValueType": NEVER,
    "numpy.typing._ScalarLike_co": node("union", of=[node("int"), node("float"), node("bool"), node("str")]),
    "numpy.typing._IntLike_co": node("int"),
    "numpy.typing._FloatLike_co": node("float"),
    "numpy.typing._BoolLike_co": node("bool"),
    "numpy.typing._NumberLike_co": node("float"),
    "numpy.typing._ComplexLike_co": node("union", of=[node("float"), node("special", name="complex")]),
    "numpy.typing._CharLike_co": node("str"),
}

for _path in ("pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.WindowsPath",
              "pathlib.PurePosixPath", "pathlib.PureWindowsPath"):
    _SIMPLE[_path] = node("special", name="path")

_LISTS = {"builtins.list", "typing.List", "typing.Sequence", "collections.abc.Sequence", "typing.MutableSequence",
          "collections.abc.MutableSequence", "typing.Iterable", "collections.abc.Iterable", "typing.Collection",
          "collections.abc.Collection", "typing.Reversible", "collections.abc.Reversible", "collections.deque",
          "typing.Deque", "_typeshed.SupportsLenAndGetItem", "typing.Container", "collections.abc.Container",
          "numpy.typing._NestedSequence", "typing.KeysView", "typing.ValuesView", "collections.abc.KeysView",
          "collections.abc.ValuesView"}
_SETS = {"builtins.set", "builtins.frozenset", "typing.Set", "typing.FrozenSet", "typing.AbstractSet",
         "collections.abc.Set", "typing.MutableSet", "collections.abc.MutableSet"}
_DICTS = {"builtins.dict", "typing.Dict", "typing.Mapping", "collections.abc.Mapping", "typing.MutableMapping",
          "collections.abc.MutableMapping", "typing.DefaultDict", "collections.defaultdict", "typing.OrderedDict",
          "collections.OrderedDict", "collections.ChainMap", "typing.ChainMap", "types.MappingProxyType",
          "_typeshed.SupportsKeysAndGetItem", "_typeshed.SupportsItems"}
_COUNTERS = {"collections.Counter", "typing.Counter"}
_TUPLES = {"builtins.tuple", "typing.Tuple"}
# Results that are streams when a tool returns them (a generator function's annotation).
ITERATORS = {"typing.Iterator": False, "collections.abc.Iterator": False, "typing.Generator": False,
             "collections.abc.Generator": False, "typing.AsyncIterator": True, "collections.abc.AsyncIterator": True,
             "typing.AsyncGenerator": True, "collections.abc.AsyncGenerator": True, "typing.AsyncIterable": True,
             "collections.abc.AsyncIterable": True}
AWAITABLES = {"typing.Awaitable", "collections.abc.Awaitable", "typing.Coroutine", "collections.abc.Coroutine"}
_TYPES = {"builtins.type", "typing.Type"}

# numpy scalar classes -> the plain value item() gives.
_FLOATS = {"floating", "float16", "float32", "float64", "float96", "float128", "half", "single", "double",
           "longdouble", "inexact", "number", "float_"}
_INTS = {"integer", "signedinteger", "unsignedinteger", "int8", "int16", "int32", "int64", "uint8", "uint16",
         "uint32", "uint64", "intp", "uintp", "int_", "uint", "byte", "ubyte", "short", "ushort", "intc", "uintc",
         "long", "ulong", "longlong", "ulonglong"}
_NUMPY_SCALARS = {}
for _n in _FLOATS:
    _NUMPY_SCALARS[_n] = node("float")
for _n in _INTS:
    _NUMPY_SCALARS[_n] = node("int")
_NUMPY_SCALARS.update({
    "bool_": node("bool"), "bool": node("bool"), "complexfloating": node("special", name="complex"),
    "complex64": node("special", name="complex"), "complex128": node("special", name="complex"),
    "complex256": node("special", name="complex"), "clongdouble": node("special", name="complex"),
    "cdouble": node("special", name="complex"), "csingle": node("special", name="complex"),
    "datetime64": node("special", name="datetime"), "timedelta64": node("special", name="timedelta"),
    "str_": node("str"), "bytes_": node("bytes"), "character": node("str"), "flexible": ANY, "void": ANY,
    "object_": ANY, "generic": ANY,
})
# numpy's array-like aliases (numpy/_typing): _ArrayLike<Kind>_co -> array-like of that kind.
_ARRAY_LIKE = re.compile(r"^_?(?:Dual)?ArrayLike([A-Za-z0-9]*?)(?:_co)?$")
_ARRAY_LIKE_KINDS = {
    "": ANY, "Bool": node("bool"), "UInt": node("int"), "Int": node("int"), "Float": node("float"),
    "Complex": union([node("float"), node("special", name="complex")]), "Number": node("float"),
    "TD64": node("special", name="timedelta"), "DT64": node("special", name="datetime"), "Str": node("str"),
    "Bytes": node("bytes"), "String": node("str"), "Unknown": ANY,
    # arrays of object / void dtype: only arrays fit (no plain value makes one)
    "Object": NEVER, "Void": NEVER,
}


def _first(args, default=ANY):
    return args[0] if args else default


def _item(t: dict) -> dict:
    """An array's item type from ``dtype[X]``, ``X`` (a numpy scalar) or a TypeVar bound to one."""
    for _ in range(4):
        if t.get("k") == "special" and t.get("name") == "dtype":
            t = t.get("of", ANY)
        elif t.get("k") == "scalar":
            t = t["of"]
        elif t.get("k") == "tv":
            t = union([_item(o) for o in t["of"]]) if t["of"] else ANY
        else:
            break
    return t


def _numpy(name: str, args: list):
    if name in _NUMPY_SCALARS:
        return node("scalar", of=_NUMPY_SCALARS[name])
    if name in ("ndarray", "NDArray", "matrix", "memmap", "recarray"):
        # ndarray[shape, dtype[X]]; NDArray[X]
        return node("ndarray", of=_item(args[-1] if args else ANY))
    return None


def known(qualname: str, args: list):
    """The node for the class or alias ``qualname`` with type arguments ``args`` (nodes), or None."""
    q = canonical(qualname)
    simple = _SIMPLE.get(q)
    if simple is not None:
        return simple
    if q in _LISTS:
        return node("list", of=_first(args))
    if q in _SETS:
        return node("set", of=_first(args))
    if q in _DICTS:
        return node("dict", key=_first(args), val=args[1] if len(args) > 1 else ANY)
    if q in _COUNTERS:
        return node("dict", key=_first(args), val=node("int"))
    if q in _TUPLES:
        return node("list", of=ANY) if not args else node("tuple", of=list(args))
    if q in ITERATORS:
        return node("iter", of=_first(args), **{"async": ITERATORS[q]})
    if q in AWAITABLES:
        return args[-1] if args else ANY
    if q in _TYPES:
        return node("obj", cls="builtins.type")
    module, _, name = q.rpartition(".")
    if module == "numpy":
        found = _numpy(name, args)
        if found is not None:
            return found
        if name == "dtype":
            return node("special", name="dtype", of=_first(args))
    if module == "numpy.typing":
        if name in ("NDArray",):
            return _numpy(name, args)
        if name in ("ArrayLike",):
            return node("arraylike", of=ANY)
        if name in ("_SupportsArray",):
            return node("arraylike", of=ANY)
        if name in ("_ArrayLike",):  # _ArrayLike[np.float64]
            item = _first(args)
            return node("arraylike", of=item["of"] if item.get("k") == "scalar" else item)
        m = _ARRAY_LIKE.match(name)
        if m and m.group(1) in _ARRAY_LIKE_KINDS:
            return node("arraylike", of=_ARRAY_LIKE_KINDS[m.group(1)])
        if name.startswith("_DTypeLike") or name.endswith("DTypeLike"):
            return node("special", name="dtype")
    return None
