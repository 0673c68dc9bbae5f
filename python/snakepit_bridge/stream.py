"""Stream chunks. A streaming tool yields values; each becomes one ``chunk`` frame (PROTOCOL.md section 5).

Any yielded object with ``data`` and ``is_final`` attributes counts as a chunk (adapters bring their own
chunk classes); anything else is sent as it is, with ``final`` false.
"""

from __future__ import annotations

__all__ = ["StreamChunk", "unwrap_chunk"]


class StreamChunk:
    """One chunk of a stream: ``data`` is sent; ``is_final`` ends the stream after it."""

    __slots__ = ("data", "is_final")

    def __init__(self, data: object, is_final: bool = False) -> None:
        self.data = data
        self.is_final = is_final

    def __repr__(self) -> str:
        return "StreamChunk(%r, is_final=%r)" % (self.data, self.is_final)


# Types that are never chunk objects: skip the attribute probes for the common case of plain values.
_PLAIN = frozenset([dict, list, tuple, str, bytes, int, float, bool, type(None)])


def unwrap_chunk(item: object):
    """Return ``(data, final)`` for a yielded item."""
    if type(item) in _PLAIN:
        return item, False
    if type(item) is StreamChunk:
        return item.data, bool(item.is_final)
    try:
        return item.data, bool(item.is_final)
    except AttributeError:
        return item, False
