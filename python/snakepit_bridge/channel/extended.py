"""Tag kinds for values every adapter may send or receive: ``datetime`` and ``ndarray`` (PROTOCOL.md 3.1).

Both codecs call :func:`extended_tag` only for objects they cannot encode natively (their ``default``
hooks), so plain values never pay for it, and :func:`read_extended` for a received tag of these kinds.

    datetime.datetime  <->  {"__snakepit__": "datetime", "value": ISO 8601 text}      (JS Date)
    numpy.ndarray      <->  {"__snakepit__": "ndarray", "dtype": "float64",          (NDArray / typed array)
                              "shape": [2, 3], "data": raw bytes, C order, little-endian}

Sending never imports numpy (an array only exists when the worker's code imported it already); a
received ``ndarray`` becomes a numpy array when numpy is installed, and nested lists otherwise.
"""

from __future__ import annotations

import array
import sys

__all__ = ["extended_tag", "has_extended_form", "read_extended", "EXTENDED_KINDS", "NDARRAY_DTYPES", "nest"]

TAG_KEY = "__snakepit__"

# dtype name -> (itemsize, array-module typecode) for the fallback without numpy. Only these dtypes
# travel as raw bytes; arrays of other dtypes (objects, strings, dates, complex) have no ndarray form.
NDARRAY_DTYPES = {
    "bool": (1, "B"),
    "int8": (1, "b"),
    "uint8": (1, "B"),
    "int16": (2, "h"),
    "uint16": (2, "H"),
    "int32": (4, "i"),
    "uint32": (4, "I"),
    "int64": (8, "q"),
    "uint64": (8, "Q"),
    "float16": (2, None),
    "float32": (4, "f"),
    "float64": (8, "d"),
}
MAX_NDIM = 32  # numpy's own limit is 64; a deeper shape in a received tag is a malformed frame
EXTENDED_KINDS = frozenset(["datetime", "ndarray"])
# ``datetime`` is not imported here: a worker that never meets a date does not load it (docs/PERFORMANCE.md,
# "Start of one worker"). A datetime object exists only once its module is imported, so it is looked up in
# sys.modules, like numpy; a received tag imports it.


def extended_tag(obj):
    """The tag map for ``obj`` if it is a datetime or a numeric numpy array, else None."""
    dt = sys.modules.get("datetime")
    if dt is not None and isinstance(obj, dt.datetime):
        try:
            text = obj.isoformat()
        except (ValueError, TypeError):  # pandas.NaT and friends
            text = "NaT"
        return {TAG_KEY: "datetime", "value": text}
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, np.ndarray):
        return ndarray_tag(obj, np)
    return None


def has_extended_form(obj) -> bool:
    """True if :func:`extended_tag` would give ``obj`` a tag (without building it)."""
    dt = sys.modules.get("datetime")
    if dt is not None and isinstance(obj, dt.datetime):
        return True
    np = sys.modules.get("numpy")
    return np is not None and isinstance(obj, np.ndarray) and obj.dtype.name in NDARRAY_DTYPES


def ndarray_tag(arr, np):
    """The ``ndarray`` tag of a numeric array, or None for dtypes that have no raw form."""
    dtype = arr.dtype
    if dtype.kind not in "biuf" or dtype.name not in NDARRAY_DTYPES:
        return None
    if dtype.byteorder == ">" or (dtype.byteorder == "=" and sys.byteorder == "big"):
        arr = arr.astype(dtype.newbyteorder("<"))
    return {TAG_KEY: "ndarray", "dtype": dtype.name, "shape": list(arr.shape),
            "data": np.ascontiguousarray(arr).tobytes()}


def read_extended(kind: str, tag: dict, attachments=()):
    """The Python value of a received ``datetime`` or ``ndarray`` tag (``attachments``: a JSON frame's).

    Raises:
        KeyError, TypeError, ValueError: the tag is malformed (the codec reports a ProtocolError).
    """
    if kind == "datetime":
        return _read_datetime(tag["value"])
    return _read_ndarray(tag, attachments)


def _read_datetime(text):
    import datetime as _dt  # the first date received loads it

    if not isinstance(text, str):
        raise TypeError("value must be a string")
    if text == "NaT":  # an invalid JS Date
        return None
    if text.endswith("Z"):  # Python < 3.11 does not read "Z"
        text = text[:-1] + "+00:00"
    value = _dt.datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)


def _read_ndarray(tag, attachments):
    dtype, shape, data = tag["dtype"], tag["shape"], tag["data"]
    if isinstance(data, dict) and data.get(TAG_KEY) == "bytes":  # JSON: the bytes are an attachment
        data = attachments[data["attachment"]]
    if dtype not in NDARRAY_DTYPES:
        raise ValueError("unsupported dtype %r" % (dtype,))
    if not isinstance(shape, list) or len(shape) > MAX_NDIM \
            or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError("shape must be a list of non-negative integers")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("data must be bytes")
    count = 1
    for n in shape:
        count *= n
    itemsize, code = NDARRAY_DTYPES[dtype]
    if count * itemsize != len(data):
        raise ValueError("%d bytes do not hold %d items of %s" % (len(data), count, dtype))
    np = sys.modules.get("numpy")
    if np is None:
        try:
            import numpy as np  # the host sent an array: use numpy if it is installed at all
        except ImportError:
            np = None
    if np is not None:
        # A copy: the frame's bytes are read-only, and functions may write into their arguments.
        return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"), count=count).astype(
            dtype, copy=True).reshape(shape)
    if code is None:
        raise ValueError("dtype %s needs numpy in the worker" % dtype)
    flat = array.array(code, bytes(data))
    if sys.byteorder == "big":
        flat.byteswap()
    items = [bool(v) for v in flat] if dtype == "bool" else flat.tolist()
    return nest(items, shape)


def nest(items, shape):
    """A flat list of items in C order as nested lists of ``shape``."""
    if len(shape) <= 1:
        return items if shape else items[0]
    step = len(items) // shape[0] if shape[0] else 0
    return [nest(items[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]
