"""The by-value form of Python objects that neither codec carries natively (docs/VALUES.md).

Both codecs call :func:`natural` from their ``default`` hooks, so plain values never pay for it. It
returns a value the codec can carry (and packs in turn, so containers are converted all the way down),
or ``NO_FORM``:

    date, time                    -> ISO 8601 text           Decimal, UUID, Path  -> text
    timedelta                     -> seconds (float)         Fraction             -> "n/d" text
    complex                       -> {"real", "imag"}        Enum member          -> its value
    set, frozenset                -> list (sorted when the items allow)
    dataclass instance            -> {field: value}          pydantic model       -> model_dump() / dict()
    Mapping                       -> dict                    deque, array, range  -> list
    numpy scalars                 -> their Python value (datetime64 -> datetime, timedelta64 -> seconds)
    numpy arrays with no ``ndarray`` tag (datetime, complex, object, text, structured) -> nested lists
    pandas DataFrame -> records; Series -> list or {index: value}; Index, Categorical -> list; NA -> None
    anything else with ``_asdict()`` or ``isoformat()`` -> what they return

numpy and pandas are never imported here: an object of theirs exists only if the worker imported them.
"""

from __future__ import annotations

import sys

from .extended import nest

__all__ = ["natural", "NO_FORM", "type_name"]

NO_FORM = object()

# Nothing here imports decimal, uuid, pathlib, dataclasses, ... (a worker that never meets them never loads
# them): an object of such a type exists only if its module was imported, so it is looked up in sys.modules.


def _sorted(items):
    try:
        return sorted(items)
    except TypeError:  # mixed types: iteration order
        return list(items)


def _complex(z):
    return {"real": z.real, "imag": z.imag}


def _seconds(td):
    return td.total_seconds()


def _tolist(obj):
    return obj.tolist()


def _isoformat(obj):
    return obj.isoformat()


# (module, class name) of the exact type -> conversion
_BY_NAME = {
    ("datetime", "date"): _isoformat,  # datetime is not imported here (a date exists only once it is)
    ("datetime", "time"): _isoformat,
    ("datetime", "timedelta"): _seconds,
    ("decimal", "Decimal"): str,
    ("fractions", "Fraction"): str,
    ("builtins", "complex"): _complex,
    ("uuid", "UUID"): str,
    ("builtins", "set"): _sorted,
    ("builtins", "frozenset"): _sorted,
    ("collections", "deque"): list,
    ("array", "array"): _tolist,
    ("builtins", "range"): list,
}
# For subclasses: module -> (class name, conversion)
_BASES = [("decimal", "Decimal", str), ("fractions", "Fraction", str), ("uuid", "UUID", str),
          ("collections", "deque", list)]


def natural(obj):
    """The value ``obj`` is sent as (see the module docstring), or ``NO_FORM``."""
    cls = type(obj)
    convert = _BY_NAME.get((cls.__module__, cls.__name__))
    if convert is not None:
        return convert(obj)
    enum = sys.modules.get("enum")
    if enum is not None and isinstance(obj, enum.Enum):
        return obj.value
    dt = sys.modules.get("datetime")
    if dt is not None:
        if isinstance(obj, (dt.date, dt.time)):  # subclasses (datetime itself has a tag of its own)
            return obj.isoformat()
        if isinstance(obj, dt.timedelta):
            return obj.total_seconds()
    if isinstance(obj, (set, frozenset)):
        return _sorted(obj)
    if isinstance(obj, complex):
        return _complex(obj)
    pathlib = sys.modules.get("pathlib")
    if pathlib is not None and isinstance(obj, pathlib.PurePath):
        return str(obj)
    for module, name, convert in _BASES:
        mod = sys.modules.get(module)
        if mod is not None and isinstance(obj, getattr(mod, name)):
            return convert(obj)
    found = _from_libraries(obj)
    if found is not NO_FORM:
        return found
    if hasattr(cls, "__dataclass_fields__") and not isinstance(obj, type):
        import dataclasses  # loaded already: the class was made with it

        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if hasattr(cls, "model_fields") and callable(getattr(obj, "model_dump", None)):  # pydantic 2
        return obj.model_dump()
    if hasattr(cls, "__fields__") and callable(getattr(obj, "dict", None)):  # pydantic 1
        return obj.dict()
    abc = sys.modules.get("collections.abc")
    if abc is not None and isinstance(obj, abc.Mapping):
        return dict(obj)
    if callable(getattr(obj, "_asdict", None)):
        return obj._asdict()
    isoformat = getattr(obj, "isoformat", None)
    if callable(isoformat) and not isinstance(obj, type):
        text = isoformat()
        if isinstance(text, str):
            return text
    return NO_FORM


def type_name(obj) -> str:
    """``module.QualName`` of ``obj``'s class (``int`` for builtins), for markers and messages."""
    cls = type(obj)
    module = getattr(cls, "__module__", None)
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in (None, "builtins") else "%s.%s" % (module, name)


# ------------------------------------------------------------------------------ numpy and pandas


def _from_libraries(obj):
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(obj, np.generic):
            return _numpy_scalar(obj, np)
        if isinstance(obj, np.ndarray):  # numeric arrays have an `ndarray` tag (extended.py)
            return _numpy_list(obj, np)
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(obj, pd.DataFrame):
            return _records(obj, pd)
        if isinstance(obj, pd.Series):
            if _default_index(obj.index, pd):
                return obj.to_numpy()
            return dict(zip(obj.index, obj.to_numpy().tolist() if obj.dtype.kind in "mM" else obj.to_numpy()))
        if isinstance(obj, (pd.Index, pd.Categorical)):
            return obj.to_numpy() if isinstance(obj, pd.Index) else list(obj)
        if obj is pd.NA:
            return None
    return NO_FORM


def _numpy_scalar(value, np):
    if isinstance(value, np.datetime64):
        item = value.astype("datetime64[us]").item()  # a datetime (numpy has imported its module), or an int
        datetime = sys.modules["datetime"].datetime
        return item if item is None or isinstance(item, datetime) else str(value)  # beyond year 9999
    if isinstance(value, np.timedelta64):
        item = value.astype("timedelta64[us]").item()
        return None if item is None else item.total_seconds()
    if isinstance(value, np.complexfloating):
        return _complex(complex(value))
    if isinstance(value, np.void) and value.dtype.names:
        return {name: value[name] for name in value.dtype.names}
    if isinstance(value, np.floating):  # longdouble: item() stays a numpy scalar
        return float(value)
    return value.item()


def _numpy_list(arr, np):
    kind = arr.dtype.kind
    if arr.dtype.names:  # structured: one object per record
        names = arr.dtype.names
        flat = [{name: row[name] for name in names} for row in arr.reshape(-1)]
        return nest(flat, arr.shape)
    if kind == "M":
        arr = arr.astype("datetime64[us]")
    elif kind == "m":
        return nest([None if v is None else v.total_seconds()
                      for v in arr.astype("timedelta64[us]").reshape(-1).tolist()], arr.shape)
    elif kind == "c":
        return nest([_complex(z) for z in arr.reshape(-1).tolist()], arr.shape)
    elif kind == "f":  # float16/32/64 have tags: this is longdouble, or a non-native byte order
        arr = arr.astype("float64")
    elif kind in "biu":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr.tolist()  # object items are packed (and converted) in turn


def _default_index(index, pd) -> bool:
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None


def _records(df, pd):
    if not _default_index(df.index, pd):
        df = df.reset_index()  # a meaningful index (describe(), groupby) becomes the leading column(s)
    labels = list(df.columns)
    columns = [_column(df.iloc[:, i]) for i in range(df.shape[1])]
    return [dict(zip(labels, row)) for row in zip(*columns)] if columns else [{} for _ in range(len(df))]


def _column(series):
    values = series.to_numpy()
    if values.dtype.kind in "mM":
        return _numpy_list(values, sys.modules["numpy"])
    return values.tolist() if values.dtype.kind in "biuf" else list(values)
