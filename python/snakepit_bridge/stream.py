"""Stream chunks. A streaming tool yields values; each becomes one ``chunk`` frame (PROTOCOL.md section 5).

Any yielded object with ``data`` and ``is_final`` attributes counts as a chunk (adapters bring their own
chunk classes); anything else is sent as it is, with ``final`` false.

A tool may instead take a ``stream`` parameter and push chunks itself (the Snakepit 0.7 style):

    @tool(supports_streaming=True)
    def batch_process(self, params, stream):
        for i, item in enumerate(params["items"]):
            stream.send({"progress": i + 1})
        return {"total": len(params["items"])}     # sent as the last chunk

``stream`` is a :class:`StreamSender`; in an ``async def`` tool use ``await stream.asend(...)``.
"""

from __future__ import annotations

import threading

from .channel.connection import FLUSH_BYTES, FLUSH_CHUNKS
from .errors import CallCancelled

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers only: the worker does not import typing at start
    from .dispatch.worker_api import WorkerApi

__all__ = ["StreamChunk", "StreamSender", "unwrap_chunk"]


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
    try:  # a chunk-like object of another kind (duck-typed)
        return getattr(item, "data"), bool(getattr(item, "is_final"))
    except AttributeError:
        return item, False


class StreamSender:
    """The ``stream`` argument of a tool that pushes its chunks (``send``) instead of yielding them.

    ``send`` honours the host's back-pressure: with no credit left it waits until the consumer catches
    up, and it raises :class:`~snakepit_bridge.CallCancelled` once the call is cancelled (the consumer
    stopped, a timeout, an abort), so the tool's ``finally`` blocks run.
    """

    def __init__(self, worker: WorkerApi, call) -> None:
        self._worker = worker
        self._call = call
        self._lock = threading.Lock()
        self.seq = 0  # chunks sent so far
        self.closed = False  # a final chunk was sent

    def send(self, data: object, final: bool = False) -> None:
        """Send one chunk (``final=True`` ends the stream after it). Blocks while the host has no credit.

        Raises:
            CallCancelled: the call was cancelled.
            RuntimeError: the stream already ended with a final chunk.
        """
        call = self._call
        if call.granted - call.spent <= 0 and call.cancel_reason is None:
            self._worker.wait_for_credit(call)  # raises CallCancelled if the call is cancelled meanwhile
        self._emit(data, final)

    async def asend(self, data: object, final: bool = False) -> None:
        """``send`` for ``async def`` tools: waits for credit without blocking the event loop."""
        import asyncio

        call = self._call
        while call.granted - call.spent <= 0 and call.cancel_reason is None:
            self._worker.conn.flush()
            event = asyncio.Event()
            call.loop, call.wake_async = asyncio.get_running_loop(), event.set
            try:
                if call.granted - call.spent > 0 or call.cancel_reason is not None:
                    break
                await event.wait()
            finally:
                call.wake_async = None
        self._emit(data, final)

    def _emit(self, data, final: bool) -> None:
        call = self._call
        if call.cancel_reason is not None:
            raise CallCancelled(call.cancel_reason)
        with self._lock:
            if self.closed:
                raise RuntimeError("stream.send() after a final chunk: the stream has ended")
            frame = self._worker.chunk_frame(call, self.seq, data, final)
            call.spent += 1
            self.seq += 1
            self.closed = final
            seq = self.seq
        conn = self._worker.conn
        if conn.buffer(frame) >= FLUSH_BYTES or seq % FLUSH_CHUNKS == 0 or final:
            conn.flush()
        else:
            conn.arm()  # the tool goes on running: the chunk must not wait for its end
