"""Arrow tables on the wire (DATA.md, PROTOCOL.md section 3.2): an ``arrow`` tag carries one Arrow IPC stream,
inline (``ipc``: bytes) or in shared memory (``shm``: ``{seg, off, len}``, read in place, no copy).

Received, a table becomes a pandas DataFrame (pandas installed), else a polars DataFrame, else a pyarrow Table.
Sent: a pyarrow Table always goes as Arrow; a pandas or polars DataFrame when asked for (``ArrowValue``; the
generic adapter's ``_return: "arrow"`` and ``dataframes: "arrow"``). pyarrow is needed either way; without it
the call fails with an error that names the package.
"""

from __future__ import annotations

import sys

from .shm import SHARED
from .values import TaggedValue

__all__ = ["ArrowValue", "read_arrow", "arrow_tag", "MISSING_PYARROW"]

TAG_KEY = "__snakepit__"
MISSING_PYARROW = "an Arrow table needs the 'pyarrow' package in the worker's Python (pip install pyarrow)"


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.ipc  # noqa: F401 - the submodule is what is used
    except ImportError:
        raise ValueError(MISSING_PYARROW) from None
    return pyarrow


def read_arrow(tag: dict):
    """The value of a received ``arrow`` tag. Raises ValueError (the call fails alone) when it is malformed or
    pyarrow is missing."""
    pa = _pyarrow()
    shared = tag.get("shm")
    if shared is not None:
        if not isinstance(shared, dict):
            raise ValueError("arrow tag: shm must be a map")
        data = SHARED.read_view(shared)
    else:
        data = tag.get("ipc")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValueError("arrow tag: ipc must be bytes")
    try:
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise ValueError("arrow tag: not an Arrow IPC stream (%s)" % exc) from None
    if "pandas" in sys.modules or _importable("pandas"):
        return table.to_pandas()
    if "polars" in sys.modules or _importable("polars"):
        import polars

        return polars.from_arrow(table)
    return table


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def _table_of(value):
    """A pyarrow Table of a pyarrow Table / RecordBatch, pandas DataFrame or polars DataFrame, else None."""
    module = type(value).__module__.split(".", 1)[0]
    if module not in ("pyarrow", "pandas", "polars"):
        return None
    pa = _pyarrow()
    if isinstance(value, pa.Table):
        return value
    if isinstance(value, pa.RecordBatch):
        return pa.Table.from_batches([value])
    if module == "pandas" and type(value).__name__ == "DataFrame":
        return pa.Table.from_pandas(value, preserve_index=None)
    if module == "polars" and type(value).__name__ == "DataFrame":
        return value.to_arrow()
    return None


def arrow_tag(value):
    """The ``arrow`` tag of a pyarrow Table (or of a DataFrame wrapped in ArrowValue), else None."""
    if type(value).__module__.split(".", 1)[0] != "pyarrow":
        return None
    table = _table_of(value)
    return None if table is None else _tag(table)


def _tag(table) -> dict:
    pa = _pyarrow()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    buffer = sink.getvalue()
    shared = SHARED.share(buffer)
    if shared is not None:
        return {TAG_KEY: "arrow", "shm": {"seg": shared["seg"], "off": shared["off"], "len": shared["len"]}}
    return {TAG_KEY: "arrow", "ipc": buffer.to_pybytes()}


class ArrowValue(TaggedValue):
    """Send a pandas/polars DataFrame (or pyarrow Table) as an Arrow table: the host gets an apache-arrow Table.

    >>> return ArrowValue(df)
    """

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def tag(self) -> dict:
        table = _table_of(self.value)
        if table is None:
            raise TypeError("ArrowValue holds a %s, not a pandas/polars DataFrame or pyarrow Table"
                            % type(self.value).__name__)
        return _tag(table)
