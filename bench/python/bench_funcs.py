"""The benchmark's workloads as plain Python functions, shared by every system under test.

Each system calls these the way its documentation recommends (an adapter tool for snakepit, a module import for
pythonia and node-calls-python, a line protocol for python-shell), so the Python work is identical everywhere.
"""
import array
import os
import time


def add(a, b):
    return a + b


def sum_list(values):
    return sum(values)


def sum_f64(data):
    """Sum float64 values sent as raw bytes (a Float64Array on the Node side)."""
    try:
        import numpy

        return float(numpy.frombuffer(data, dtype=numpy.float64).sum())
    except ImportError:
        return sum(array.array("d", bytes(data)))


def double_f64(data):
    """``x * 2`` of float64 values: a numpy array in (a view, or raw bytes), a numpy array out."""
    import numpy

    return numpy.frombuffer(data, dtype=numpy.float64) * 2


def double_f64_bytes(data):
    """``double_f64`` with the result as raw bytes, for bridges that carry no numpy array back."""
    return double_f64(data).tobytes()


def table_roundtrip_ipc(data):
    """An Arrow IPC stream (bytes) to a pandas DataFrame and back to a stream: a table round trip by hand, for
    bridges that carry no Arrow tables."""
    import pyarrow
    import pyarrow.ipc

    frame = pyarrow.ipc.open_stream(pyarrow.py_buffer(data)).read_all().to_pandas()
    table = pyarrow.Table.from_pandas(frame, preserve_index=False)
    sink = pyarrow.BufferOutputStream()
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def table_roundtrip_b64(text):
    """``table_roundtrip_ipc`` for bridges with no bytes type: the IPC stream as base64 text both ways."""
    import base64

    return base64.b64encode(table_roundtrip_ipc(base64.b64decode(text))).decode()


def _calibrate():
    """Loop iterations per millisecond of pure-Python work on this machine (measured once, at import)."""
    n, start = 0, time.perf_counter()
    while n < 200_000:
        n += 1
    return 200_000 / ((time.perf_counter() - start) * 1000.0)


_ITERATIONS_PER_MS = _calibrate()


def cpu(ms):
    """A fixed amount of pure-Python work, about `ms` milliseconds on one core (holds the GIL throughout).

    Fixed work, not a deadline: bridges that run calls on threads sharing one GIL must then take longer, which is
    what the parallelism workload is meant to show.
    """
    n, target = 0, int(ms * _ITERATIONS_PER_MS)
    while n < target:
        n += 1
    return n


def sleep(ms):
    time.sleep(ms / 1000.0)
    return ms


def stream(n):
    for i in range(n):
        yield {"i": i, "tag": "chunk"}


def echo_bytes(data):
    return bytes(data)


def pid():
    return os.getpid()


def die():
    os._exit(9)


def fail():
    def inner():
        raise ValueError("bench failure marker")

    inner()


def b64_echo(text):
    """For bridges with no bytes type: the same 1 MiB round trip, as base64 text both ways."""
    import base64

    return base64.b64encode(base64.b64decode(text)).decode()
