"""The worker's end of the channel: the socket at ``--channel-fd``, one outbox, batched writes.

The socket is used through its file descriptor with ``os.read``/``os.readv``/``os.write``/``os.writev``:
the ``socket`` module would add over 1 MB to every idle worker and nothing we need.

Any thread may write. Frames go into one outbox; ``flush()`` joins them and sends them with one
``sendall``. Callers that know more work is waiting (the main loop with a non-empty queue, a stream
between chunks) buffer and flush later; everyone else calls ``send()``, which flushes at once. So that
buffered frames never sit while their thread is busy in user code, a lazily started flusher thread
sends anything left in the outbox about ``FLUSH_DELAY_S`` after it is armed (``arm()``).
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import threading
import time

from .codec import Codec
from .framing import DEFAULT_MAX_FRAME_BYTES, FrameDecoder, ProtocolError

__all__ = ["Connection", "PayloadTooLarge", "ChannelClosed"]

# Reads go into one reusable buffer (no allocation per read): RECV_BYTES at first, RECV_BUFFER_MAX once a read
# has filled it, so a frame of up to that size that is already waiting takes one read instead of several.
RECV_BYTES = 64 * 1024
RECV_BUFFER_MAX = 256 * 1024
LARGE_WRITE_BYTES = 64 * 1024  # from this size on, frames are written without joining them first
FLUSH_DELAY_S = 0.001
# Streams buffer their chunks and flush every FLUSH_CHUNKS chunks or FLUSH_BYTES bytes (and whenever
# they would wait): one sendall per batch instead of one per chunk.
FLUSH_CHUNKS = 64
FLUSH_BYTES = 64 * 1024
_IOV_MAX = 1024  # buffers per writev (POSIX guarantees at least 16; Linux and macOS allow 1024)
_U32 = struct.Struct(">I")


class PayloadTooLarge(Exception):
    """An encoded frame is above ``max_frame_bytes``; it is reported instead of sent."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__("encoded frame is %d bytes, above the limit of %d" % (size, limit))


class ChannelClosed(Exception):
    """The host closed the channel (end of file, or a write failed because it is gone)."""


class Connection:
    """A framed, codec-aware socket shared by the worker's threads.

    Args:
        fd: a connected stream socket's file descriptor.
        codec: the codec of the frames (``set_limits`` switches to the negotiated one).
    """

    def __init__(self, fd: int, codec: Codec | None = None) -> None:
        self.fd = fd
        self.codec = codec
        self.max_frame_bytes = DEFAULT_MAX_FRAME_BYTES
        self.decoder = FrameDecoder(DEFAULT_MAX_FRAME_BYTES)
        self.closed = False  # the host is gone (EOF, or a failed write): writes are dropped
        self._out = []
        self._out_bytes = 0
        self._out_lock = threading.Lock()  # guards the outbox list
        self._send_lock = threading.Lock()  # taken around take-and-send, so frames leave in order
        self._armed = False
        self._wake = None  # threading.Event of the flusher thread, created on first arm()
        # dispatch/ledger.py's OutboxRing when the host gave us a ledger: every frame is copied there as it is
        # buffered, so what the host has not read yet survives our crash (the host reads it after our death).
        self.mirror = None
        self.early_bodies = []  # frames read together with the handshake, for the first read_once
        self._rbuf = None  # the reusable receive buffer (bytearray), allocated on the first read

    @classmethod
    def from_fd(cls, fd: int) -> Connection:
        """Use the inherited socket at ``fd`` (kept away from our own child processes).

        Raises:
            OSError: ``fd`` is not open, or not a socket.
        """
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise OSError(errno.ENOTSOCK, os.strerror(errno.ENOTSOCK))
        os.set_blocking(fd, True)
        os.set_inheritable(fd, False)
        return cls(fd)

    def set_limits(self, codec: Codec, max_frame_bytes: int) -> None:
        """Switch to the negotiated codec and frame limit (after ``welcome``)."""
        self.codec = codec
        self.max_frame_bytes = max_frame_bytes
        self.decoder.max_frame_bytes = max_frame_bytes

    # ------------------------------------------------------------------------------------ writing

    def encode(self, msg: dict, on_bad=None, inline: bool = False):
        """Return ``msg`` as a complete frame, ready for ``buffer()``.

        ``on_bad(value, path)`` replaces a value that has no form (a reference, a marker); by default such
        a value raises SerializationError. ``inline``: the caller knows no value of ``msg`` can go to
        shared memory (only scalars, no bytes or arrays), so the codec skips that bookkeeping
        (``Codec.encode_inline``).

        A small frame is one ``bytes``; a large one is a ``(header, body)`` tuple, so the body is never
        copied just to put four bytes in front of it.

        Raises:
            SerializationError: a value in ``msg`` has no encoding (the error names its path).
            PayloadTooLarge: the body is above ``max_frame_bytes``.
        """
        codec = self.codec
        if inline:
            body = codec.encode_inline(msg)
        else:
            body = codec.encode(msg) if on_bad is None else codec.encode(msg, on_bad)
        size = len(body)
        if size > self.max_frame_bytes:
            raise PayloadTooLarge(size, self.max_frame_bytes)
        return _U32.pack(size) + body if size < LARGE_WRITE_BYTES else (_U32.pack(size), body)

    def buffer(self, data) -> int:
        """Queue an encoded frame without sending it; return the bytes now waiting."""
        with self._out_lock:
            if type(data) is tuple:
                self._out.extend(data)
                self._out_bytes += len(data[0]) + len(data[1])
                ring = self.mirror  # read once: host_gone() may clear it from another thread
                if ring is not None:
                    ring.skip(len(data[0]) + len(data[1]))  # written without a copy: not kept either
            else:
                self._out.append(data)
                self._out_bytes += len(data)
                ring = self.mirror
                if ring is not None:  # OutboxRing.append, inlined: this runs for every frame
                    end = ring.end + len(data)
                    if end <= ring.capacity:
                        ring.write(data)
                        ring.end = ring.header[4] = end
                    else:
                        ring.append(data)
            return self._out_bytes

    def send(self, msg: dict) -> None:
        """Encode ``msg`` and send it now, together with anything already buffered."""
        self.buffer(self.encode(msg))
        self.flush()

    def flush(self) -> None:
        """Send everything buffered, in order: small batches joined into one ``sendall``, large
        ones gathered by ``sendmsg`` without joining."""
        if not self._out:
            return
        with self._send_lock:
            with self._out_lock:
                out, size, self._out, self._out_bytes = self._out, self._out_bytes, [], 0
            if not out or self.closed:
                return
            try:
                if len(out) == 1:
                    _write_all(self.fd, out[0])
                elif size < LARGE_WRITE_BYTES:
                    _write_all(self.fd, b"".join(out))
                else:
                    _writev_all(self.fd, out)
            except OSError:  # EPIPE / ECONNRESET: the host is gone; the reader sees EOF and exits
                self.host_gone()

    def host_gone(self) -> None:
        """The host closed the channel (end of file, or a failed write): what is written from now on is dropped,
        and no longer copied into the ledger's ring either. The host may still read the ring (it broke the channel
        and its SIGKILL is on the way), and what we write now answers its going — calls cancelled because it left
        — not the calls it sent: such frames must never reach it as outcomes (docs/PROTOCOL.md section 1.2).
        Under the outbox lock, so a frame being buffered meanwhile is either recorded whole or not at all."""
        with self._out_lock:
            self.closed = True
            self.mirror = None

    def arm(self) -> None:
        """Make sure buffered frames leave within ~FLUSH_DELAY_S even if this thread now blocks."""
        if self._armed or not self._out:
            return
        with self._out_lock:  # several threads may arm at once: start one flusher
            if self._armed:
                return
            self._armed = True
            if self._wake is None:
                self._wake = threading.Event()
                threading.Thread(target=self._flusher, name="snakepit-flusher", daemon=True).start()
        self._wake.set()

    def _flusher(self) -> None:
        wake = self._wake
        while True:
            wake.wait()
            wake.clear()
            time.sleep(FLUSH_DELAY_S)  # let the arming thread add more before we send
            self._armed = False
            self.flush()

    # ------------------------------------------------------------------------------------ reading

    def recv_frames(self) -> list:
        """Block until at least one read completes; return the frame bodies it completed.

        Raises:
            ChannelClosed: end of file at a frame boundary (the host is gone).
            ProtocolError: end of file inside a frame, or an invalid frame length.
        """
        target = self.decoder.body_target()
        if target is not None:  # the rest of a large body: let the kernel copy it into place
            try:
                n = os.readv(self.fd, [target])
            except OSError:
                n = 0
            finally:
                target.release()
            if n:
                return self.decoder.advance(n)
            raise ProtocolError("channel closed mid-frame (%d bytes pending)" % self.decoder.pending)
        buf = self._rbuf
        if buf is None:
            buf = self._rbuf = bytearray(RECV_BYTES)
        try:
            n = os.readv(self.fd, [buf])
        except OSError:
            n = 0
        if not n:
            if self.decoder.pending:
                raise ProtocolError("channel closed mid-frame (%d bytes pending)" % self.decoder.pending)
            raise ChannelClosed()
        if n == len(buf) and n < RECV_BUFFER_MAX:
            self._rbuf = bytearray(RECV_BUFFER_MAX)  # more was waiting: read more at a time from now on
        # The decoder copies what it keeps out of the view (bodies, a partial frame), so the buffer is free
        # for the next read once feed() returns.
        return self.decoder.feed(memoryview(buf)[:n])

    def recv_message(self) -> dict:
        """Block until one message is complete and return it decoded (used for the handshake)."""
        while True:
            bodies = self.recv_frames()
            if bodies:
                self.early_bodies.extend(bodies[1:])
                return self.codec.decode(bodies[0])

    def close(self) -> None:
        """Flush and close the socket."""
        self.flush()
        self.closed = True
        try:
            os.close(self.fd)
        except OSError:
            pass


def _write_all(fd: int, data) -> None:
    """Write all of ``data`` (``os.write`` may write less than asked)."""
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view):]


def _writev_all(fd: int, parts: list) -> None:
    """Gather-write a list of buffers without joining them, resuming after partial writes."""
    views = [memoryview(p) for p in parts]
    first = 0
    while first < len(views):
        sent = os.writev(fd, views[first:first + _IOV_MAX])
        while sent:
            head = views[first]
            if sent >= len(head):
                sent -= len(head)
                first += 1
            else:
                views[first] = head[sent:]
                sent = 0
