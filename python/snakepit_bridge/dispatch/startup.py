"""Start-up: the handshake (hello / welcome), then the adapter (initialize, ready or fatal).

The adapter's module is imported between ``hello`` and reading ``welcome``, so the import overlaps the host's
answer; ``runtime.worker_info()`` is therefore still empty at import time (as in a worker forked from its pool's
template, which imported the module before the worker existed): read it in ``initialize()``.

Each step returns None to go on, or the exit code to stop with: 0 when the host went away, 3 when the
adapter failed (after a ``fatal`` frame), 4 on a bad handshake.
"""

from __future__ import annotations

import atexit
import os
import _signal as signal  # the C module under signal.py, which builds its enums (~2 ms of a cold start)
import sys
import types

from .. import __version__, runtime, telemetry
from ..signature import is_awaitable
from ..channel import shm
from ..channel.codec import SerializationError, available_codecs, make_codec
from ..channel.connection import ChannelClosed, PayloadTooLarge
from ..channel.framing import DEFAULT_MAX_FRAME_BYTES, ProtocolError
from ..errors import error_info, shrunk
from . import logs
from .memory import trim_heap
from .reader import Reader
from .tools import ToolTable

__all__ = ["PROTOCOL_VERSION", "handshake", "parse_adapter_spec", "load_adapter_class", "start_adapter"]

PROTOCOL_VERSION = 1


def parse_adapter_spec(spec: str):
    """``"pkg.mod:Class"`` or ``"pkg.mod.Class"`` -> ``("pkg.mod", "Class")``.

    Raises:
        ValueError: ``spec`` has neither form.
    """
    module, sep, name = spec.partition(":")
    if not sep:
        module, _, name = spec.rpartition(".")
    if not module or not name or ":" in name:
        raise ValueError("adapter must look like 'module:Class' or 'module.Class', got %r" % spec)
    return module, name


def load_adapter_class(spec: str):
    """Import the class ``spec`` names: ``(module, name, class)``.

    The adapter spec is configuration, but it must name a class: a function in its place would run at start
    (``os:fork`` would fork the worker, ``os:abort`` end it) instead of failing with a message.

    Raises:
        ValueError: ``spec`` has neither form.
        TypeError: it names something other than a class.
        ImportError, AttributeError: the module or the name does not exist.
    """
    module, name = parse_adapter_spec(spec)
    __import__(module)  # importlib.import_module's work for an absolute name, without importing importlib
    cls = sys.modules[module]
    for part in name.split("."):
        cls = getattr(cls, part)
    if not isinstance(cls, type):
        raise TypeError("adapter %r names %s, not a class: an adapter is a class (a BaseAdapter subclass, or any "
                        "class with @tool methods or execute_tool)" % (spec, _kind_of(cls)))
    return module, name, cls


def _kind_of(obj) -> str:
    kind = type(obj).__name__
    return "a module" if isinstance(obj, types.ModuleType) else "an %s" % kind if kind[:1] in "aeiou" else "a %s" % kind


def handshake(worker):
    """Send ``hello`` (JSON), read ``welcome`` (JSON), switch to the codec and frame limit it names."""
    opts, conn = worker.options, worker.conn
    codecs = available_codecs() if opts.codec == "auto" else [opts.codec]
    conn.codec = make_codec("json")
    conn.send({
        "type": "hello", "protocol": PROTOCOL_VERSION, "bridge": __version__, "pid": os.getpid(),
        "python": sys.version.split()[0], "implementation": sys.implementation.name,
        "free_threaded": runtime.free_threaded_build(), "gil": runtime.gil_enabled(),
        "codecs": codecs, "worker": opts.worker_id, "shm": shm.available(),
    })
    # The adapter's import overlaps the host's answer: one round trip less on the way to ``ready``. Its outcome
    # waits until the codec is agreed (a ``fatal`` frame goes out in that codec).
    worker.loaded_adapter = _import_adapter(worker)
    try:
        welcome = conn.recv_message()
    except ChannelClosed:
        return 0
    except ProtocolError as exc:
        return _diag(4, "bad handshake from the host: %s" % exc)
    max_frame = welcome.get("max_frame_bytes", DEFAULT_MAX_FRAME_BYTES)
    if welcome.get("type") != "welcome" or welcome.get("protocol") != PROTOCOL_VERSION \
            or welcome.get("codec") not in codecs or not isinstance(max_frame, int) or max_frame < 1:
        return _diag(4, "unexpected handshake from the host (offered %s): %r" % (codecs, welcome))
    conn.set_limits(make_codec(welcome["codec"]), max_frame)
    if welcome.get("shm") is not None and shm.SHARED.configure(welcome["shm"]):
        atexit.register(shm.SHARED.remove_all)  # host gone or shutdown: leave nothing in /dev/shm
    heartbeat = welcome.get("heartbeat")
    worker.heartbeat = heartbeat if isinstance(heartbeat, dict) else None
    threads = welcome.get("threads")  # the thread profile (threads.py); absent: one sync call at a time
    worker.wanted_threads = threads if type(threads) is int and 0 < threads <= 1024 else None
    runtime._set(worker_id=opts.worker_id, pool=opts.pool, run_id=opts.run_id, codec=welcome["codec"],
                 max_frame_bytes=max_frame, protocol=PROTOCOL_VERSION,
                 profile="process" if worker.wanted_threads is None else "thread", threads=worker.wanted_threads)
    return None


def _import_adapter(worker):
    """Import the adapter's class: ``(log_handler, (module, name, cls) or the exception it raised)``."""
    log_handler = logs.install()  # before the import, so import-time logging is kept (on stderr)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the host stops us (shutdown, SIGTERM), not Ctrl-C
    try:
        return log_handler, load_adapter_class(worker.options.adapter)
    except BaseException as exc:  # reported as ``fatal`` once the handshake is done
        return log_handler, exc


def start_adapter(worker):
    """Create the adapter (imported during the handshake), run ``initialize()``, send ``ready``, start the reader
    thread."""
    log_handler, loaded = getattr(worker, "loaded_adapter", None) or _import_adapter(worker)
    if isinstance(loaded, BaseException):
        return _fatal(worker, "import", loaded)
    module, name, cls = loaded
    try:
        adapter = cls()
        init = getattr(adapter, "initialize", None)
        if init is not None:
            result = init()
            if is_awaitable(result):  # on the loop the async tools will use
                worker.aio().run_blocking(result)
        worker.adapter, worker.tools = adapter, ToolTable(adapter)
        if worker.wanted_threads is not None:
            worker.threads = thread_runner(worker, adapter, worker.wanted_threads)
        specs = worker.tools.specs()
        ready = {"type": "ready", "adapter": "%s:%s" % (module, name), "tools": specs}
        describe_libraries = getattr(adapter, "describe_libraries", None)  # the generic adapter
        if describe_libraries is not None:
            ready["libraries"] = describe_libraries()
        if not getattr(worker.options, "forked", False):  # a forked worker's template trimmed it before the fork
            trim_heap()  # start-up garbage back to the OS before we idle (memory.py)
        worker.conn.send(ready)
    except BaseException as exc:
        return _fatal(worker, "initialize", exc)
    worker.interrupter.install()  # after the adapter's imports: a library's SIGUSR1 handler must not win
    worker.mark_ready()
    log_handler.send = worker.conn.send  # from now on logs and events are frames
    telemetry._attach(worker.conn.send)
    worker.reader = Reader(worker)
    if worker.lifeline is not None and worker.heartbeat is not None:
        worker.lifeline.expect_heartbeats(worker.heartbeat.get("timeout_ms"))  # the host pings from `ready` on
    worker.reader.start()
    return None


def thread_runner(worker, adapter, threads: int):
    """The thread profile's pool of threads for ``adapter``, by what it declares (``__thread_safe__``).

    True: its sync tools run up to ``threads`` at once. False: they run one at a time (async tools still
    overlap). Undeclared: refused, since nothing says its tools may run at once.

    Raises:
        ThreadSafetyError: the adapter does not declare ``__thread_safe__``.
    """
    from ..thread_safety_checker import ThreadSafetyError, adapter_thread_safety, warn_unsafe_libraries
    from .threads import ThreadRunner

    declared = adapter_thread_safety(adapter)
    if declared is None:
        raise ThreadSafetyError(
            "adapter %s does not declare whether it is thread-safe, and profile \"thread\" would run its sync "
            "tools on %d threads at once. Set __thread_safe__ = True on the class once its tools are safe to run "
            "concurrently (snakepit_bridge.base_adapter_threaded has helpers), __thread_safe__ = False to run "
            "them one at a time, or use profile \"process\"" % (type(adapter).__name__, threads))
    warn_unsafe_libraries(sys.modules)
    return ThreadRunner(worker, threads, serial=not declared)


def _fatal(worker, phase: str, exc: BaseException) -> int:
    info = error_info(exc)
    sent = False
    for error in (info, shrunk(info, 16384), shrunk(info, 256)):
        try:
            worker.conn.send({"type": "fatal", "phase": phase, "error": error})
            sent = error is info
            break
        except (SerializationError, PayloadTooLarge):
            continue
        except OSError:  # the host is gone: stderr is all that is left
            break
    # The host got the whole traceback and logs it once per pool; stderr repeating it would print it once per
    # worker. Without the frame (or with a shortened one) stderr is where it can be read.
    if not sent:
        sys.stderr.write("snakepit_bridge: adapter %s failed:\n%s" % (phase, info["traceback"]))
    worker.conn.close()
    return 3


def _diag(code: int, message: str) -> int:
    sys.stderr.write("snakepit_bridge: %s\n" % message)
    return code
