"""Length-prefixed frames: a uint32 big-endian body length, then the body (PROTOCOL.md section 2)."""

from __future__ import annotations

import struct

__all__ = ["DEFAULT_MAX_FRAME_BYTES", "FrameDecoder", "ProtocolError", "frame"]

DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024
LARGE_BODY_BYTES = 64 * 1024  # bodies from this size on are received straight into their own buffer

_HEADER = struct.Struct(">I")
_pack_header = _HEADER.pack
_unpack_header = _HEADER.unpack_from


class ProtocolError(Exception):
    """The peer broke the wire contract (bad length, undecodable body, unknown message)."""


def frame(body: bytes) -> bytes:
    """Return ``body`` with its length header, as one buffer ready to write."""
    return _pack_header(len(body)) + body


class FrameDecoder:
    """Incremental decoder: feed it whatever ``recv`` returned, get back the complete bodies.

    Handles frames split across reads and many frames in one read. A length of 0 or above
    ``max_frame_bytes`` raises ProtocolError as soon as the header is seen, before the body is
    buffered, so a corrupt or hostile length never makes us allocate.

    A large body (``LARGE_BODY_BYTES`` or more) that has not fully arrived gets a buffer of its exact
    size; ``body_target()`` exposes the part still to fill so the reader can ``recv_into`` it, and the
    body is handed out without further copies (as a ``bytearray``).
    """

    __slots__ = ("max_frame_bytes", "_buf", "_big", "_big_fill")

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buf = bytearray()  # bytes of an incomplete small frame (or header)
        self._big = None  # bytearray of a large body being filled, and how much of it is filled
        self._big_fill = 0

    @property
    def pending(self) -> int:
        """Bytes held of an incomplete frame (non-zero at EOF means "closed mid-frame")."""
        return len(self._buf) + (self._big_fill + 4 if self._big is not None else 0)

    def body_target(self):
        """A memoryview of the unfilled part of a large body, or None. Fill it, then ``advance(n)``."""
        if self._big is None:
            return None
        return memoryview(self._big)[self._big_fill:]

    def advance(self, n: int) -> list:
        """``n`` more bytes were written into ``body_target()``; return the completed bodies."""
        self._big_fill += n
        if self._big_fill < len(self._big):
            return []
        body, self._big, self._big_fill = self._big, None, 0
        return [body]

    def feed(self, data) -> list:
        """Add ``data`` and return the list of complete frame bodies (possibly empty).

        Raises:
            ProtocolError: a header announces a length of 0 or more than ``max_frame_bytes``.
        """
        bodies = []
        if self._big is not None:
            take = min(len(data), len(self._big) - self._big_fill)
            self._big[self._big_fill:self._big_fill + take] = data[:take]
            bodies.extend(self.advance(take))
            if self._big is not None or take == len(data):
                return bodies
            data = data[take:]
        if self._buf:
            self._buf += data
            buf = self._buf
            # A memoryview slices the bytearray without an intermediate copy; released below
            # because a bytearray with a live export cannot be resized.
            view = memoryview(buf)
        else:
            # Common case: nothing left over, parse the fresh bytes without copying them first.
            buf = view = data
        pos = 0
        end_of_data = len(buf)
        limit = self.max_frame_bytes
        try:
            while end_of_data - pos >= 4:
                (length,) = _unpack_header(buf, pos)
                if length == 0 or length > limit:
                    raise ProtocolError("frame length %d is invalid (must be 1..%d)" % (length, limit))
                end = pos + 4 + length
                if end > end_of_data:
                    if length >= LARGE_BODY_BYTES:  # keep what we have in a buffer of the final size
                        self._big = bytearray(length)
                        self._big_fill = end_of_data - pos - 4
                        self._big[:self._big_fill] = view[pos + 4:end_of_data]
                        pos = end_of_data
                    break
                bodies.append(bytes(view[pos + 4 : end]))
                pos = end
        except ProtocolError:
            if view is not buf:
                view.release()
            self._buf = bytearray()
            raise
        if view is not buf:
            view.release()
            if pos:
                del buf[:pos]
        elif pos < end_of_data:
            self._buf = bytearray(buf[pos:])
        return bodies
