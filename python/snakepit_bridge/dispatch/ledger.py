"""The ledger: a small file the host shares with a local worker (``--ledger-fd``) and reads only once the
worker has died, to learn what it can no longer ask (docs/PROTOCOL.md section 1.2):

- which calls had begun. ``CallTable.start`` writes a call's id into the slot the host gave it (the
  ``slot`` field of ``call``) before any of the call's code runs. A call whose slot does not hold its id
  never began, so the host runs it on another worker instead of failing it;
- the frames it sent last. ``Connection.buffer`` copies each frame (below 64 KiB) into a ring as it is
  buffered, numbered by its offset in everything this worker has written on the channel. The host knows how
  far it had read when the worker died (or when the worker broke the stream with garbage), and decodes the rest
  from here: results and chunks computed just before a crash reach their callers anyway.

Both are plain stores into a shared mapping: no system call per call, nothing for the host to read while
the worker lives. Layout (little-endian, offsets in bytes):

    0   magic b"SPL1"
    4   u32 slots          number of begun-table entries
    8   u32 ring_offset    where the ring area starts
    12  u32 ring_size      its capacity
    16  u32 end            written by the worker: bytes of whole frames in the ring
    20  u32 attached       written by the worker: 1 once it uses the ledger (else the host assumes nothing)
    24  u64 base           written by the worker: the channel offset of the ring's first byte
    64  i64 begun[slots]   the id of the call that began in each slot
"""

from __future__ import annotations

import mmap
import os
import struct

__all__ = ["Ledger", "OutboxRing", "open_ledger"]

MAGIC = b"SPL1"
_HEADER = struct.Struct("<4sIII")
_END, _ATTACHED = 4, 5  # indexes of the worker's fields in the header viewed as u32
BEGUN_OFFSET = 64


class OutboxRing:
    """The last frames this worker wrote (or is about to write) on the channel, where the host can read them.

    Bytes are numbered from the connection's first frame, which is exactly the host's numbering of what it
    receives: the ring holds whole frames, the first at ``base``. A frame that does not fit starts the ring over,
    and a large frame (not copied) empties it, so the ring is always a run of consecutive frames. Called under the
    connection's outbox lock, for every frame: kept to a bounds check, one ``mmap.write`` at the mapping's own
    position (the cheapest copy Python offers: one C call, no slice object) and one store.
    """

    # `write`, `header`, `capacity` and `end` are public: Connection.buffer inlines the common case of `append`.
    __slots__ = ("write", "_seek", "header", "_base_view", "_offset", "capacity", "end", "base")

    def __init__(self, mapping: mmap.mmap, offset: int, capacity: int, header, base_view) -> None:
        self.write = mapping.write
        self._seek = mapping.seek
        self.header = header  # the ledger's header as u32: index 4 (_END) is `end`
        self._base_view = base_view
        self._offset = offset
        self.capacity = capacity
        self.end = 0  # bytes in the ring
        self.base = 0  # the channel offset of the ring's first byte
        mapping.seek(offset)

    def append(self, data: bytes) -> None:
        end = self.end + len(data)
        if end > self.capacity:
            self._restart(self.base + self.end)
            end = len(data)
            if end > self.capacity:  # cannot happen for frames below LARGE_WRITE_BYTES; be safe
                self._restart(self.base + end)
                return
        self.write(data)
        self.end = self.header[_END] = end

    def skip(self, n: int) -> None:
        """A frame of ``n`` bytes that is not kept: the ring starts over after it."""
        self._restart(self.base + self.end + n)

    def _restart(self, base: int) -> None:
        self.header[_END] = 0  # first: a crash between the stores leaves an empty ring, never a wrong one
        self._base_view[0] = base
        self.base = base
        self.end = 0
        self._seek(self._offset)


class Ledger:
    """The worker's side of the ledger file."""

    __slots__ = ("begun", "slots", "outbox", "_map")

    def __init__(self, fd: int) -> None:
        self._map = mm = mmap.mmap(fd, 0)
        magic, slots, offset, size = _HEADER.unpack_from(mm, 0)
        if magic != MAGIC or BEGUN_OFFSET + 8 * slots > offset or offset + size > len(mm):
            raise ValueError("not a snakepit ledger (magic %r, %d slots, outbox %d+%d)" % (magic, slots, offset, size))
        view = memoryview(mm)
        header = view[0:24].cast("I")
        self.slots = slots
        self.begun = view[BEGUN_OFFSET:BEGUN_OFFSET + 8 * slots].cast("q")
        self.outbox = OutboxRing(mm, offset, size, header, view[24:32].cast("Q"))
        header[_ATTACHED] = 1


def open_ledger(fd):
    """The ledger at ``fd`` (closed once mapped), or None when there is none or it is unusable."""
    if fd is None:
        return None
    try:
        return Ledger(fd)
    except (OSError, ValueError) as exc:
        import sys

        sys.stderr.write("snakepit_bridge: ignoring the ledger at fd %d: %s\n" % (fd, exc))
        return None
    finally:
        try:
            os.close(fd)  # the mapping keeps the file; the fd must not leak into the adapter's subprocesses
        except OSError:
            pass
