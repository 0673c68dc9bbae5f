"""Library results as wire values: by value where natural, a reference otherwise (docs/GENERIC_ADAPTER.md).

    plain values (str, int, float, bool, None, bytes, lists and dicts of them)  as they are
    datetime.datetime, numeric numpy arrays                  left to the codecs (``datetime``/``ndarray`` tags)
    date, time -> ISO text; timedelta -> seconds; Decimal, UUID -> text; Enum -> its value
    set, frozenset, tuple -> list; namedtuple, dataclass, pydantic model, Mapping -> object
    numpy scalars -> numbers; other numpy arrays -> nested lists (``arrays: "lists"``: every array)
    pandas DataFrame -> records or columns; Series -> list (default index) or object; Index -> list
    modules -> refused; anything else -> ``to_ref`` (object_refs.py)

The walk only copies what it must: a list or dict whose items are all plain is returned as it is.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import inspect
import sys
import uuid
from collections.abc import Mapping

from ..channel.arrow import MISSING_PYARROW, ArrowValue
from ..channel.extended import NDARRAY_DTYPES
from ..channel.values import MAX_DEPTH, join_path
from ..errors import BridgeError
from .object_refs import to_ref

__all__ = ["ValueOptions", "to_wire", "as_arrow", "PLAIN"]

PLAIN = frozenset([str, int, float, bool, type(None), bytes])
_KEY_TYPES = frozenset([str, int, float, bool, type(None)])


class ValueOptions:
    """How a library's DataFrames and arrays go by value."""

    __slots__ = ("dataframes", "arrays")

    def __init__(self, dataframes: str = "records", arrays: str = "typed") -> None:
        self.dataframes = dataframes  # "records" (row objects), "columns" (object of columns) or "arrow"
        self.arrays = arrays  # "typed" (numeric arrays as ndarray tags) or "lists" (nested lists)


def to_wire(value, options: ValueOptions, path: str = "result"):
    """``value`` in a form the codecs can send (see the module docstring).

    Raises:
        BridgeError: kind ``serialization`` for a value with no by-value form (from ``to_ref``), a module,
            a cycle, or nesting deeper than the codecs allow.
    """
    if type(value) in PLAIN:
        return value
    return _convert(value, options, path, 0, set())


def as_arrow(value):
    """A result asked for as Arrow (``_return: "arrow"``): a pandas/polars DataFrame or pyarrow Table.

    Raises:
        BridgeError: kind ``serialization`` for anything else, or when pyarrow is missing (naming it).
    """
    if not _is_table(value):
        raise _serialization("result", value, '_return: "arrow" needs a pandas or polars DataFrame or a pyarrow '
                                              'Table, not a %s' % type(value).__name__)
    try:
        import pyarrow  # noqa: F401 - checked here so the error names the package, before anything is sent
    except ImportError:
        raise _serialization("result", value, MISSING_PYARROW) from None
    return ArrowValue(value)


def _is_table(value) -> bool:
    module = type(value).__module__.split(".", 1)[0]
    return (module in ("pandas", "polars") and type(value).__name__ == "DataFrame") or \
        (module == "pyarrow" and type(value).__name__ in ("Table", "RecordBatch"))


def _serialization(path: str, value, reason: str) -> BridgeError:
    return BridgeError("serialization", "%s at %s" % (reason, path),
                       {"path": path, "python_type": type(value).__name__}, type_name="SerializationError")


def _convert(value, opts, path, depth, seen):
    cls = type(value)
    if cls in PLAIN:
        return value
    if depth > MAX_DEPTH:
        raise _serialization(path, value, "value is nested too deeply")
    if cls is list or cls is tuple:
        if set(map(type, value)) <= PLAIN:
            return value
        return _sequence(value, opts, path, depth, seen)
    if cls is dict:
        if set(map(type, value.values())) <= PLAIN and set(map(type, value)) <= _KEY_TYPES:
            return value
        return _mapping(value, opts, path, depth, seen)
    return _special(value, opts, path, depth, seen)


def _enter(value, path, seen):
    if id(value) in seen:
        raise _serialization(path, value, "value contains a cycle")
    seen.add(id(value))


def _sequence(items, opts, path, depth, seen):
    _enter(items, path, seen)
    try:
        out = [_convert(v, opts, join_path(path, i), depth + 1, seen) for i, v in enumerate(items)]
    finally:
        seen.discard(id(items))
    if type(items) in (list, tuple) and all(a is b for a, b in zip(out, items)):
        return items  # nothing inside needed converting: no copy
    return out


def _key(key, path):
    if type(key) in _KEY_TYPES:
        return key
    if isinstance(key, enum.Enum):
        key = key.value
    if isinstance(key, (str, int, float, bool)):  # subclasses: numpy/pandas keys, IntEnum values
        return key
    np = sys.modules.get("numpy")
    if np is not None and isinstance(key, np.generic):
        return key.item()
    return key  # tuples (MultiIndex labels), bytes, dates: the codecs send the dict as a PyDict (docs/VALUES.md)


def _label(label, path):
    """A DataFrame column label as a record's key: text for tuples (MultiIndex columns) and other labels."""
    key = _key(label, path)
    return key if type(key) in _KEY_TYPES else str(key)


def _mapping(items, opts, path, depth, seen):
    _enter(items, path, seen)
    try:
        out, same = {}, type(items) is dict
        for key, item in items.items():
            wire_key = _key(key, path)
            value = out[wire_key] = _convert(item, opts, join_path(path, wire_key), depth + 1, seen)
            same = same and value is item and wire_key is key
        return items if same else out  # nothing inside needed converting: no copy
    finally:
        seen.discard(id(items))


def _special(value, opts, path, depth, seen):
    """Everything that is not a plain value, list, tuple or dict."""
    if isinstance(value, enum.Enum):
        return _convert(value.value, opts, path, depth + 1, seen)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return value
    if isinstance(value, _dt.datetime):
        return value  # the codecs send a `datetime` tag (a Date on the host)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    converted = _from_libraries(value, opts, path, depth, seen)
    if converted is not _NOTHING:
        return converted
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # namedtuple
        return _mapping(dict(zip(value._fields, value)), opts, path, depth, seen)
    if isinstance(value, (list, tuple)):
        return _sequence(value, opts, path, depth, seen)
    if isinstance(value, (set, frozenset)):
        return _sequence(_ordered(value), opts, path, depth, seen)
    if isinstance(value, Mapping):
        return _mapping(dict(value), opts, path, depth, seen)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return _mapping(fields, opts, path, depth, seen)
    dump = getattr(value, "model_dump", None)  # pydantic 2
    if dump is not None and hasattr(type(value), "model_fields"):
        return _convert(dump(), opts, path, depth + 1, seen)
    if hasattr(type(value), "__fields__") and callable(getattr(value, "dict", None)):  # pydantic 1
        return _convert(value.dict(), opts, path, depth + 1, seen)
    if inspect.ismodule(value):
        raise _serialization(path, value, "a module cannot be returned")
    if inspect.isgenerator(value) or inspect.isasyncgen(value):
        raise _serialization(path, value, "a generator inside a result cannot be sent (return it alone, and "
                                          "call the function with executeStream)")
    return to_ref(value, path)


def _ordered(items):
    try:
        return sorted(items)
    except TypeError:  # mixed types: iteration order
        return list(items)


_NOTHING = object()


def _from_libraries(value, opts, path, depth, seen):
    """numpy and pandas values, when those libraries are loaded; ``_NOTHING`` for anything else."""
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            return _ndarray(value, np, opts, path, depth, seen)
        if isinstance(value, np.generic):
            if isinstance(value, np.datetime64):
                return _datetime64(value, np)
            return _convert(value.item(), opts, path, depth + 1, seen)
    if opts.dataframes == "arrow" and _is_table(value):
        return ArrowValue(value)
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(value, pd.DataFrame):
            return _dataframe(value, pd, opts, path, depth, seen)
        if isinstance(value, pd.Series):
            return _series(value, pd, opts, path, depth, seen)
        if isinstance(value, pd.Index):
            return _convert(value.to_numpy(), opts, path, depth + 1, seen)
        if value is pd.NA:
            return None
    return _NOTHING


def _ndarray(arr, np, opts, path, depth, seen):
    if opts.arrays == "typed" and arr.dtype.kind in "biuf" and arr.dtype.name in NDARRAY_DTYPES:
        return arr  # the codecs send an `ndarray` tag: dtype, shape and raw bytes
    if arr.dtype.kind == "M":  # datetime64: through microseconds, so .tolist() gives datetimes
        arr = arr.astype("datetime64[us]")
    elif arr.dtype.kind == "m":
        arr = arr.astype("timedelta64[us]")
    return _convert(arr.tolist(), opts, path, depth + 1, seen)


def _datetime64(value, np):
    item = value.astype("datetime64[us]").item()
    return item  # a datetime (a `datetime` tag), or None for NaT


def _default_index(index, pd) -> bool:
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None


def _dataframe(df, pd, opts, path, depth, seen):
    if not _default_index(df.index, pd):
        df = df.reset_index()  # a meaningful index (describe(), groupby) becomes the leading column(s)
    labels = [_label(label, path) for label in df.columns]
    if len(set(labels)) != len(labels):
        raise _serialization(path, df, "DataFrame column labels are not unique (%s)" % ", ".join(map(str, labels)))
    columns = [df.iloc[:, i] for i in range(df.shape[1])]
    if opts.dataframes == "columns":
        return {label: _convert(col.to_numpy(), opts, join_path(path, label), depth + 1, seen)
                for label, col in zip(labels, columns)}
    values = [_convert(col.to_numpy(), ValueOptions(opts.dataframes, "lists"), path, depth + 1, seen)
              for col in columns]
    return [dict(zip(labels, row)) for row in zip(*values)] if values else [{} for _ in range(len(df))]


def _series(series, pd, opts, path, depth, seen):
    if _default_index(series.index, pd):
        return _convert(series.to_numpy(), opts, path, depth + 1, seen)
    keys = [_key(label, path) for label in series.index]
    values = _convert(series.to_numpy(), ValueOptions(opts.dataframes, "lists"), path, depth + 1, seen)
    return dict(zip(keys, values))
