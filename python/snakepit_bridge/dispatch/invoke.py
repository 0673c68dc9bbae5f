"""Running one call: resolve the tool, check the arguments, call it, answer.

The reader resolves each call as it arrives and starts async tools on the event-loop thread (aio.py)
itself. Sync tools run on the main thread, armed for cancellation (interrupt.py), or in the thread profile
on a pool thread (threads.py); sync generators are streamed from there, within the host's credit.
"""

from __future__ import annotations

import types
from collections.abc import Iterator

from ..channel.codec import SerializationError
from ..channel.connection import FLUSH_BYTES, FLUSH_CHUNKS, PayloadTooLarge
from ..errors import (CallCancelled, bridge_error, cancelled, error_info, payload_too_large,
                      serialization_error)
from .. import tracing
from ..names import clip, short
from ..session_context import current_call
from ..signature import is_awaitable
from ..stream import StreamSender, unwrap_chunk
from .calls import ASYNC, SYNC

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers only: the worker does not import typing at start
    from .worker_api import WorkerApi

__all__ = ["deliver", "resolve", "run_call", "start_async", "stream_plain_value", "BUILTIN_NAMES"]

# The bridge's own tools (ref_tools.py: a reference's methods and attributes, a session's move) are imported when
# a call first names one, with session_tools.py: a worker whose host never asks for them does not load them
# (docs/PERFORMANCE.md, "Start of one worker"). Their names, to tell them from an adapter's for the price of the
# dict lookup this was before (python/tests/test_lean_startup.py checks they are ref_tools.BUILTIN_TOOLS's).
BUILTIN_NAMES = frozenset(["__snakepit__.call_method", "__snakepit__.get_attr", "__snakepit__.session_export",
                           "__snakepit__.session_import"])
_ref_tools = None


def _builtin_tools():
    global _ref_tools
    if _ref_tools is None:
        from . import ref_tools as _ref_tools
    return _ref_tools


def resolve(worker: WorkerApi, call, flush: bool = False) -> bool:
    """Find the tool for ``call`` and check its arguments (any thread; runs no user code).

    On success sets ``call.func`` / ``call.is_async`` and returns True. Otherwise answers the call
    (``unknown_tool`` / ``invalid_arguments``) and returns False.
    """
    table = worker.tools
    builtin = call.tool in BUILTIN_NAMES  # __snakepit__.*: the bridge's own, before any adapter's
    if builtin:
        tool = _builtin_tools().BUILTIN_TOOLS[call.tool]
    else:
        if table.execute_tool is not None:
            call.func, call.is_async = table.execute_tool, table.execute_is_async
            return True
        tool = table.tools.get(call.tool)
        if tool is None:
            tool = table.get(call.tool)  # a tool known only by name (resolve_tool), or none
        elif tool.names_only and not tool.streams:  # the common case: two set tests, no call to problem()
            keys = call.args.keys()
            if keys <= tool.names and tool.required <= keys:
                call.func, call.is_async, call.style = tool.func, tool.is_async, tool.style
                # Worker._run_batch's case: decided here, once, from what the tool and the frame say.
                call.plain = (tool.style is None and not tool.is_async and table.plain and call.trace is None
                              and not call.stream)
                return True
    if tool is None:
        worker.answer(call, error=bridge_error(
            "unknown_tool", "unknown tool %s" % short(call.tool), {"tool": clip(call.tool),
                                                                    "available": table.names()}),
            flush=flush)
        return False
    problem = tool.problem(call.args)
    if problem is None and builtin:
        problem = _builtin_tools().builtin_problem(call)
    if problem is None and tool.streams and not call.stream:
        problem = "tool %r is a stream: use a stream call" % call.tool
    if problem is not None:  # a tool was found: its name is one of the adapter's, not a caller's megabytes
        worker.answer(call, error=bridge_error("invalid_arguments", "%s() %s" % (call.tool, problem), {
            "tool": call.tool, "signature": tool.spec["signature"], "problem": problem}), flush=flush)
        return False
    call.func, call.is_async = tool.func, tool.is_async or tool.is_asyncgen
    call.style = tool.style
    # Arguments checked (and converted) above: the rest is run_call's common case, which Worker._run_batch runs
    # inline. The bridge's own tools keep the general path.
    call.plain = (not builtin and tool.style is None and not call.is_async and table.plain and call.trace is None
                  and not call.stream)
    return True


def _invoke(worker: WorkerApi, call):
    # execute_tool(tool_name, arguments, context), or the tool method with the arguments as keywords.
    table = worker.tools
    if table.assign_context:  # not a BaseAdapter: no per-call property, so set the attribute
        try:
            table.adapter.session_context = call.context
        except AttributeError:  # a read-only attribute of the adapter's own
            pass
    if call.func is table.execute_tool:
        return call.func(call.tool, call.args, call.context)
    style = call.style
    if style is None:
        return call.func(**call.args)
    kwargs = {"params": call.args} if "params" in style else dict(call.args)
    if "stream" in style:
        call.sender = kwargs["stream"] = StreamSender(worker, call)
    return call.func(**kwargs)


def start_async(worker: WorkerApi, call) -> None:
    """Reader thread: hand a resolved async call to the event loop at once.

    Calling an ``async def`` (or async generator function) only creates the coroutine, so this runs no
    user code; async calls therefore never wait behind a sync tool that keeps the main thread busy.
    """
    if not worker.calls.start(call, ASYNC):
        return  # cancelled before it started: already answered
    try:
        coro = _invoke(worker, call)
    except BaseException as exc:  # e.g. a TypeError from a decorator's wrapper
        worker.answer(call, error=error_info(exc), flush=True)
        return
    worker.aio().submit(call, coro)


def run_call(worker: WorkerApi, call, kind=SYNC, interrupter=None) -> None:
    """Run a resolved sync call, on the main thread (``kind`` SYNC) or a pool thread (THREAD, with that
    thread's ``interrupter``); exactly one terminal frame follows, from here or from the event loop. Only
    ``SystemExit`` from the tool escapes (it ends the process)."""
    if not worker.calls.start(call, kind):
        return  # cancelled while queued: the reader has answered it
    if interrupter is None:
        interrupter = worker.interrupter
    token = current_call.set(call)
    traced = tracing.activate(call) if call.trace is not None else None
    try:
        try:
            interrupter.enter(call)
            # The common case inline (a tool method taking its arguments as keywords); _invoke has the others.
            if call.style is None and worker.tools.plain:
                result = call.func(**call.args)
            else:
                result = _invoke(worker, call)
        finally:
            interrupter.leave()
    except CallCancelled as exc:  # raised in a pool thread it carries no reason: the call has it
        worker.answer(call, error=cancelled(call.cancel_reason or exc.reason))
        return
    except SystemExit:
        raise
    except BaseException as exc:
        worker.answer(call, error=error_info(exc))
        return
    finally:
        current_call.reset(token)
        if traced is not None:
            tracing.deactivate(traced)
    if type(result) in _PLAIN and not call.stream:  # the common case, without deliver's probes
        worker.answer(call, result)
    else:
        deliver(worker, call, result, interrupter)


_PLAIN = frozenset([dict, list, tuple, str, bytes, int, float, bool, type(None)])
PLAIN_TYPES = _PLAIN  # for Worker._run_batch


def deliver(worker: WorkerApi, call, result, interrupter) -> None:
    """Answer ``call`` with what its tool returned: a value, a coroutine or a stream."""
    if type(result) in _PLAIN and not call.stream:  # the common case, without the probes below
        worker.answer(call, result)
    elif isinstance(result, types.CoroutineType) or is_awaitable(result) and not isinstance(result, Iterator):
        worker.calls.move_to_loop(call)
        worker.aio().submit(call, result)
    elif call.stream:
        if isinstance(result, types.AsyncGeneratorType):
            worker.calls.move_to_loop(call)
            worker.aio().submit(call, result)
        elif isinstance(result, Iterator):
            run_sync_stream(worker, call, result, interrupter)
        else:  # a plain value: one final chunk, then the result
            worker.answer(call, None, stream_plain_value(worker, call, result))
    elif isinstance(result, (types.GeneratorType, types.AsyncGeneratorType)):
        _close(result)
        worker.answer(call, error=bridge_error(
            "invalid_arguments", "tool %r returned a stream: use a stream call" % call.tool,
            {"tool": call.tool, "signature": "", "problem": "the tool returned a generator"}))
    else:
        worker.answer(call, result)


def run_sync_stream(worker: WorkerApi, call, iterator, interrupter) -> None:
    """Send each item of a sync iterator as a chunk, pausing when the host's credit runs out."""
    conn = worker.conn
    seq, value, error = 0, None, None
    token = current_call.set(call)
    traced = tracing.activate(call) if call.trace is not None else None
    try:
        try:
            while True:
                if call.granted - call.spent <= 0:
                    worker.wait_for_credit(call)  # serves the channel meanwhile (Worker.pump_until)
                conn.arm()  # the generator may block: buffered chunks must still leave
                try:
                    interrupter.enter(call)
                    item = next(iterator)
                except StopIteration as stop:
                    value = stop.value
                    break
                finally:
                    interrupter.leave()
                data, final = unwrap_chunk(item)
                frame = worker.chunk_frame(call, seq, data, final)
                call.spent += 1
                seq += 1
                if conn.buffer(frame) >= FLUSH_BYTES or seq % FLUSH_CHUNKS == 0:
                    conn.flush()
                if final:
                    break
        except CallCancelled as exc:
            error = cancelled(exc.reason)
        except (SerializationError, PayloadTooLarge) as exc:
            error = _encode_error(exc)
        except SystemExit:
            raise
        except BaseException as exc:
            error = error_info(exc)
        try:
            _close(iterator)  # its finally runs now, in the call's context, before the terminal frame
        except SystemExit:
            raise
        except BaseException as exc:
            error = error or error_info(exc)
    finally:
        current_call.reset(token)
        if traced is not None:
            tracing.deactivate(traced)
    worker.answer(call, value, error)


def stream_plain_value(worker: WorkerApi, call, value):
    """A stream call's tool returned ``value`` (not an iterator): send it as the final chunk.

    For a tool that pushed chunks with ``stream.send`` the value continues its sequence, and a None
    return sends nothing more. Returns the ErrorInfo to answer with, or None.
    """
    sender, seq = call.sender, 0
    if sender is not None:
        if value is None or sender.closed:
            return None
        seq = sender.seq
    try:
        worker.conn.buffer(worker.chunk_frame(call, seq, value, True))
    except (SerializationError, PayloadTooLarge) as exc:
        return _encode_error(exc)
    return None


def _close(iterator) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def _encode_error(exc) -> dict:
    return serialization_error(exc) if isinstance(exc, SerializationError) else payload_too_large(exc)
