"""The event-loop thread: async tools, async streams, and async ``initialize()`` / ``cleanup()``.

One asyncio loop in one daemon thread, started on the first async tool, so several async calls run
concurrently while the main thread keeps serving sync calls. This module (and so ``asyncio``, about
10 MB of a worker's memory) is imported only then. Terminal frames are written from this thread;
frames produced in one loop iteration go out together (``_schedule_flush``).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Iterator

from ..channel.codec import SerializationError
from ..channel.connection import FLUSH_BYTES, FLUSH_CHUNKS, PayloadTooLarge
from .. import tracing
from ..errors import CallCancelled, cancelled, error_info, payload_too_large, serialization_error
from ..session_context import current_call
from ..stream import unwrap_chunk
from .calls import DONE

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers only: the worker does not import typing at start
    from .worker_api import WorkerApi

__all__ = ["AsyncRunner"]


def _close(obj) -> None:
    close = getattr(obj, "close", None)  # a coroutine never awaited: close it quietly
    if close is not None and inspect.iscoroutine(obj):
        close()


async def _aiter_sync(iterator):
    """Iterate a sync iterator returned by a coroutine (each ``next`` runs on the loop)."""
    try:
        for item in iterator:
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class AsyncRunner:
    """Owns the event loop thread."""

    def __init__(self, worker: WorkerApi) -> None:
        self.worker = worker
        self.loop = asyncio.new_event_loop()
        self._flush_pending = False
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), name="snakepit-asyncio",
                                       daemon=True)
        self.thread.start()
        started.wait()

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(started.set)
        self.loop.run_forever()

    # ------------------------------------------------------------------- called from other threads

    def run_blocking(self, awaitable):
        """Run ``awaitable`` on the loop and wait for its result (``initialize`` / ``cleanup``)."""
        async def wrapper():
            return await awaitable
        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result()

    def submit(self, call, obj) -> None:
        """Any thread: run a coroutine (or, for a stream call, an async generator) as ``call``."""
        self.loop.call_soon_threadsafe(self._start, call, obj)

    def cancel(self, call) -> None:
        """Reader thread: cancel the task of ``call`` (or keep it from starting)."""
        self.loop.call_soon_threadsafe(self._cancel, call)

    # ------------------------------------------------------------------------------- on the loop

    def _cancel(self, call) -> None:
        task = call.task
        if task is not None:
            task.cancel()
        # No task yet: _start sees call.cancel_reason and answers instead of starting.

    def _start(self, call, obj) -> None:
        if call.cancel_reason is not None:
            _close(obj)
            self._answer(call, error=cancelled(call.cancel_reason))
            return
        token = current_call.set(call)  # the task copies this context: session_context works inside
        traced = tracing.activate(call) if call.trace is not None else None  # and the trace, if any
        try:
            coro = self._stream(call, obj) if inspect.isasyncgen(obj) else self._await(call, obj)
            task = self.loop.create_task(coro)
        finally:
            current_call.reset(token)
            if traced is not None:
                tracing.deactivate(traced)
        call.task = task
        # A task cancelled before its first step never enters our try blocks: answer for it here.
        task.add_done_callback(lambda _task: self._ensure_answered(call, obj))

    def _ensure_answered(self, call, obj) -> None:
        if call.state is not DONE:
            _close(obj)
            self._answer(call, error=cancelled(call.cancel_reason or "abort"))

    async def _await(self, call, awaitable) -> None:
        try:
            value = await awaitable
            if call.stream:
                await self._stream_value(call, value)
                return
        except (asyncio.CancelledError, CallCancelled):
            self._answer(call, error=cancelled(call.cancel_reason or "abort"))
        except SystemExit as exc:
            self.worker.request_exit(exc.code)
        except BaseException as exc:
            self._answer(call, error=error_info(exc))
        else:
            self._answer(call, value)

    async def _stream_value(self, call, value) -> None:
        if inspect.isasyncgen(value):
            await self._stream(call, value)
        elif isinstance(value, Iterator):
            await self._stream(call, _aiter_sync(value))
        else:  # a plain value: one final chunk, then the result
            from .invoke import stream_plain_value

            self._answer(call, None, stream_plain_value(self.worker, call, value))

    async def _stream(self, call, agen) -> None:
        """Send each item of ``agen`` as a chunk, within the host's credit; answer at the end."""
        conn, seq, error, value = self.worker.conn, 0, None, None
        event = asyncio.Event()
        call.loop, call.wake_async = self.loop, event.set  # the reader pokes us on credit / cancel
        try:
            while True:
                while call.granted - call.spent <= 0 and call.cancel_reason is None:
                    conn.flush()
                    event.clear()
                    if call.granted - call.spent > 0 or call.cancel_reason is not None:
                        break
                    await event.wait()
                if call.cancel_reason is not None:
                    raise CallCancelled(call.cancel_reason)
                try:
                    item = await agen.__anext__()
                except StopAsyncIteration:
                    break
                data, final = unwrap_chunk(item)
                frame = self.worker.chunk_frame(call, seq, data, final)
                call.spent += 1
                seq += 1
                if conn.buffer(frame) >= FLUSH_BYTES or seq % FLUSH_CHUNKS == 0:
                    conn.flush()
                else:
                    self._schedule_flush()
                if final:
                    break
        except (CallCancelled, asyncio.CancelledError):
            error = cancelled(call.cancel_reason or "abort")
        except (SerializationError, PayloadTooLarge) as exc:
            error = _encode_error(exc)
        except SystemExit as exc:
            self.worker.request_exit(exc.code)
            return
        except BaseException as exc:
            error = error_info(exc)
        finally:
            call.wake_async = None
        try:
            await agen.aclose()  # runs the generator's finally before we answer
        except BaseException as exc:  # a finally that raises: report it unless we already failed
            error = error or error_info(exc)
        self._answer(call, value, error)

    def _answer(self, call, value=None, error=None) -> None:
        self.worker.answer(call, value, error, flush=False)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        # Everything answered in this loop iteration leaves in one sendall; arm() covers a task that
        # blocks the loop before our flush callback gets its turn.
        if not self._flush_pending:
            self._flush_pending = True
            self.loop.call_soon(self._flush)
            self.worker.conn.arm()

    def _flush(self) -> None:
        self._flush_pending = False
        self.worker.conn.flush()


def _encode_error(exc) -> dict:
    return serialization_error(exc) if isinstance(exc, SerializationError) else payload_too_large(exc)
