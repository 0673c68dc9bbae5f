"""Shared memory for large binary values (DATA.md, PROTOCOL.md section 3.2).

The host names a prefix in ``welcome`` (``/dev/shm/snakepit-<run>-<worker>-``); every segment of this worker
is a file with that prefix and a suffix:

    a<n>   written by the host (a call's arguments); mapped here read-only, once, and kept mapped
    r<n>   written here (results); byte 0 is 1 while the host has not read the result in it

Whoever opens a segment the other side made removes its name (both hold it open, by descriptor, from then
on), so a segment has a name in /dev/shm only until its first use: a SIGKILL of either side cannot leave one
behind, except in that window, which the host covers (it removes a worker's names when the worker exits, and
the orphan sweep those of a host that died).

An ``shm`` tag names a suffix, an offset and a length (and, for an array, dtype and shape). Received arrays
are read-only numpy views of the mapping: no copy. They are valid while the call runs; the host reuses the
segment for a later call, so a tool that keeps an argument array past its return must copy it
(``np.array(x)``). Received bytes are copied into a ``bytes`` object (bytes own their memory).

Everything the host sends is checked before it is read: the suffix (never a path), the range against the
file's size, the dtype and shape against the length. A bad handle fails its call alone (a BadValue), never a
read outside the segment.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
import sys
import threading

from .extended import MAX_NDIM, NDARRAY_DTYPES, TAG_KEY

__all__ = ["SharedMemory", "ShmError", "SHARED"]

SHM_DIR = "/dev/shm"
PREFIX = re.compile(r"^snakepit-[A-Za-z0-9_.]{1,64}-[A-Za-z0-9_.]{1,64}-$")
ARG_SUFFIX = re.compile(r"^a[0-9]{1,6}$")
RESULT_HEADER = 64  # byte 0: busy flag; data from here
MAX_RESULT_SEGMENTS = 64
GROW_STEP = 1 << 20  # result segments grow in whole MiB, so nearby sizes reuse a segment without ftruncate


class ShmError(ValueError):
    """A shared-memory handle that does not name a readable range of this worker's segments."""


def available() -> bool:
    """True when this process can use /dev/shm (Linux, writable)."""
    return sys.platform.startswith("linux") and os.access(SHM_DIR, os.W_OK | os.X_OK)


class _Mapped:
    __slots__ = ("fd", "map", "size", "view")

    def __init__(self, fd: int, mapping, size: int) -> None:
        self.fd, self.map, self.size = fd, mapping, size
        # One view of a whole argument mapping, sliced per value (cheaper than a new memoryview each time).
        self.view = memoryview(mapping) if mapping is not None and size else None


class SharedMemory:
    """This worker's segments. ``prefix`` is None until the host's ``welcome`` turns shared memory on."""

    def __init__(self) -> None:
        self.prefix = None
        self.min_bytes = 1 << 62
        self._args = {}  # suffix -> _Mapped (read-only)
        self._results = []  # [_Mapped] (read-write), index n is r<n>
        self._lock = threading.Lock()
        self._taken = threading.local()  # segments taken by the encode running on this thread

    # ------------------------------------------------------------------------------------ set-up

    def configure(self, spec) -> bool:
        """Turn shared memory on from ``welcome``'s ``shm`` field; False (and off) when it is malformed."""
        if not isinstance(spec, dict):
            return False
        prefix, min_bytes = spec.get("prefix"), spec.get("min_bytes")
        if not isinstance(prefix, str) or not PREFIX.match(prefix) or type(min_bytes) is not int or min_bytes < 1:
            return False
        self.prefix, self.min_bytes = prefix, min_bytes
        return True

    @property
    def on(self) -> bool:
        return self.prefix is not None

    # ------------------------------------------------------------------------------------ reading

    def read(self, tag: dict):
        """The value of an ``shm`` tag from the host: a read-only numpy view, nested lists (no numpy) or bytes.

        Raises:
            ShmError: the handle is malformed or does not name a readable range of an argument segment.
        """
        view = self.read_view(tag)
        dtype, shape = tag.get("dtype"), tag.get("shape")
        if dtype is None and shape is None:
            return bytes(view)
        count = _check_array(dtype, shape, len(view))
        np = sys.modules.get("numpy")
        if np is None:
            try:
                import numpy as np
            except ImportError:
                np = None
        if np is None:
            from .extended import nest

            code = NDARRAY_DTYPES[dtype][1]
            if code is None:
                raise ShmError("dtype %s needs numpy in the worker" % dtype)
            # code is a struct format from the dtype table; typeshed knows only literal formats
            items = view.cast(code).tolist()  # type: ignore[call-overload]
            return nest([bool(v) for v in items] if dtype == "bool" else items, shape)
        # A view of the mapping: read-only because the mapping is (ACCESS_READ), so a tool cannot write into
        # memory the host will reuse.
        little = _LITTLE.get(dtype)
        if little is None:
            little = _LITTLE[dtype] = np.dtype(dtype).newbyteorder("<")
        array = np.frombuffer(view, dtype=little, count=count)
        return array if len(shape) == 1 else array.reshape(shape)

    def read_view(self, handle: dict) -> memoryview:
        """A read-only view of the bytes a handle (``{seg, off, len}``) names (an Arrow stream read in place)."""
        if self.prefix is None:
            raise ShmError("a shared-memory handle arrived, but shared memory is off for this worker")
        seg, off, length = handle.get("seg"), handle.get("off"), handle.get("len")
        if type(off) is not int or type(length) is not int or off < 0 or length < 0:
            raise ShmError("handle has a bad range (offset %r, length %r)" % (off, length))
        # A segment mapped before was checked then: the common case skips the suffix check.
        mapped = self._args.get(seg) if type(seg) is str else None
        if mapped is None or off + length > mapped.size:
            if not isinstance(seg, str) or not ARG_SUFFIX.match(seg):
                raise ShmError("handle names segment %r, which is not an argument segment" % (str(seg)[:40],))
            mapped = self._arg(seg, off + length)
        return mapped.view[off:off + length]

    def _arg(self, seg: str, end: int) -> _Mapped:
        mapped = self._args.get(seg)
        if mapped is not None and end <= mapped.size:
            return mapped
        fd = mapped.fd if mapped is not None else self._open(seg)
        size = os.fstat(fd).st_size
        if end > size:
            raise ShmError("handle reaches past the end of segment %s (%d > %d bytes)" % (seg, end, size))
        # The host wrote past the old end (a larger value): map the file again. The old mapping stays alive
        # while views of it exist (mmap objects are closed by the garbage collector).
        self._args[seg] = mapped = _Mapped(fd, mmap.mmap(fd, size, access=mmap.ACCESS_READ), size)
        return mapped

    def _open(self, seg: str) -> int:
        path = os.path.join(SHM_DIR, self.prefix + seg)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise ShmError("handle names segment %s, which cannot be opened (%s)" % (seg, exc.strerror)) from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_nlink != 1:
            os.close(fd)
            raise ShmError("handle names segment %s, which is not a regular file of this user" % seg)
        # Both sides hold it open now: its name can go, so a SIGKILL of either leaves nothing in /dev/shm.
        try:
            os.unlink(path)
        except OSError:
            pass
        return fd

    # ------------------------------------------------------------------------------------ writing

    def share(self, data, dtype=None, shape=None):
        """The ``shm`` tag for ``data`` (a C-contiguous buffer) written into a free result segment, or None
        (send it inline) when shared memory is off, the value is small, or no segment is free."""
        if self.prefix is None:
            return None
        view = memoryview(data).cast("B")
        length = view.nbytes
        if length < self.min_bytes:
            return None
        try:
            n, seg = self._take(RESULT_HEADER + length)
        except OSError:
            return None  # /dev/shm full: inline
        if seg is None:
            return None
        seg.map[RESULT_HEADER:RESULT_HEADER + length] = view
        taken = getattr(self._taken, "segments", None)
        if taken is not None:
            taken.append(seg)
        tag = {TAG_KEY: "shm", "seg": "r%d" % n, "off": RESULT_HEADER, "len": length}
        if dtype is not None:
            tag["dtype"], tag["shape"] = dtype, list(shape)
        return tag

    def _take(self, size: int):
        """A result segment of at least ``size`` bytes marked busy, created or grown as needed."""
        with self._lock:
            for n, seg in enumerate(self._results):
                if seg.map[0] == 0:
                    seg.map[0] = 1
                    break
            else:
                if len(self._results) >= MAX_RESULT_SEGMENTS:
                    return None, None
                n = len(self._results)
                path = os.path.join(SHM_DIR, "%sr%d" % (self.prefix, n))
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                seg = _Mapped(fd, None, 0)
                try:
                    self._grow(seg, size)
                except OSError:
                    os.close(fd)  # no room: the name goes too, and r<n> is made again next time
                    try:
                        os.unlink(path)
                    except OSError:
                        pass
                    raise
                self._results.append(seg)
                seg.map[0] = 1
                return n, seg
        if seg.size < size:
            try:
                self._grow(seg, size)
            except OSError:
                seg.map[0] = 0
                raise
            seg.map[0] = 1
        return n, seg

    def encoding(self, encode, msg: dict, on_bad):
        """``encode(msg, on_bad)``; the result segments it took are freed again if it raises (nothing was sent)."""
        self._taken.segments = taken = []
        try:
            return encode(msg, on_bad)
        except BaseException:
            for seg in taken:
                seg.map[0] = 0
            raise
        finally:
            self._taken.segments = None

    @staticmethod
    def _grow(seg: _Mapped, size: int) -> None:
        size = -(-size // GROW_STEP) * GROW_STEP
        # Reserve the pages now: on a full tmpfs this fails with ENOSPC (the value goes inline), where pages of
        # a merely truncated file would fail later, as SIGBUS on the first write through the mapping.
        os.posix_fallocate(seg.fd, 0, size)
        seg.map = mmap.mmap(seg.fd, size)  # the old mapping goes with its last reference
        seg.size = size

    # ------------------------------------------------------------------------------------ clean-up

    def remove_all(self) -> None:
        """Remove every segment of this worker from /dev/shm (the host's too): at exit, when the host is gone."""
        prefix = self.prefix
        if prefix is None:
            return
        try:
            names = os.listdir(SHM_DIR)
        except OSError:
            return
        for name in names:
            if name.startswith(prefix):
                try:
                    os.unlink(os.path.join(SHM_DIR, name))
                except OSError:
                    pass


# numpy dtypes of the dtype names, little-endian (as the host sends them), made once each.
_LITTLE: dict = {}


def _check_array(dtype, shape, length: int) -> int:
    if dtype not in NDARRAY_DTYPES:
        raise ShmError("handle has unsupported dtype %r" % (str(dtype)[:40],))
    if not isinstance(shape, list) or len(shape) > MAX_NDIM or not all(type(n) is int and n >= 0 for n in shape):
        raise ShmError("handle's shape must be a list of at most %d non-negative integers" % MAX_NDIM)
    count = 1
    for n in shape:
        count *= n
    if count * NDARRAY_DTYPES[dtype][0] != length:
        raise ShmError("handle's %d bytes do not hold shape %r of %s" % (length, shape, dtype))
    return count


# One per worker process: the codecs' hooks reach it here (one channel per process).
SHARED = SharedMemory()


def share_array(obj):
    """The ``shm`` tag of a large numeric numpy array (written into a result segment), else None."""
    np = sys.modules.get("numpy")
    if np is None or not isinstance(obj, np.ndarray) or obj.nbytes < SHARED.min_bytes:
        return None
    dtype = obj.dtype
    if dtype.kind not in "biuf" or dtype.name not in NDARRAY_DTYPES:
        return None
    if dtype.byteorder == ">" or (dtype.byteorder == "=" and sys.byteorder == "big"):
        obj = obj.astype(dtype.newbyteorder("<"))
    data = np.ascontiguousarray(obj)
    return SHARED.share(data, dtype.name, obj.shape)

