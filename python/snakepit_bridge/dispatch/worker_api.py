"""What the dispatch modules see of the worker: its lifecycle state, and (for type checkers) its interface.

``WorkerState`` is the one lifecycle of a worker process. It only moves forward (``Worker.advance``):

  STARTING --ready sent--> SERVING --shutdown while a call waits--> STOPPING --+
     |                        |                                               |
     |                        +--end of file (the host is gone)--> HOST_GONE -+--> EXITED
     +------------------------+--shutdown handled, or EOF handled, or SystemExit-----^

- STARTING: handshake and adapter start-up; host tools cannot be called yet.
- SERVING: calls are read and run.
- STOPPING: a ``shutdown`` arrived while the main thread waited inside a call (``pump_until``): that call
  unwinds first (its wait raises CallCancelled), then the main loop shuts down.
- HOST_GONE: the channel reached end of file; open calls are cancelled and the process leaves.
- EXITED: the main loop returns ``Worker.exit_code``.

``WorkerApi`` is the interface the modules that get the worker (reader, watchdog, invoke, host_calls, aio, threads,
stream) rely on; ``Worker`` implements it. It lives under ``TYPE_CHECKING``: a worker never imports ``typing`` at
start (idle footprint), and only type checkers read it.
"""

from __future__ import annotations

import enum

__all__ = ["WorkerState"]


class WorkerState(enum.Enum):
    STARTING = 0
    SERVING = 1
    STOPPING = 2
    HOST_GONE = 3
    EXITED = 4


TYPE_CHECKING = False
if TYPE_CHECKING:
    from queue import SimpleQueue
    from typing import Any, Callable, Protocol

    from ..channel.codec import SerializationError
    from ..channel.connection import Connection
    from .calls import Call, CallTable
    from .interrupt import Interrupter
    from .lifeline import Lifeline
    from .read_role import ReadRole
    from .tools import ToolTable

    class HostApi(Protocol):
        """Host-tool calls (host_calls.HostCalls), as the reader uses them."""

        def deliver(self, msg: dict) -> None: ...
        def wake(self, call: Call) -> None: ...

    class ThreadsApi(Protocol):
        """The thread profile's pool (threads.ThreadRunner)."""

        def submit(self, call: Call) -> None: ...
        def interrupt(self, call: Call) -> None: ...

    class AioApi(Protocol):
        """The event-loop thread (aio.AsyncRunner)."""

        def submit(self, call: Call, obj: Any) -> None: ...
        def cancel(self, call: Call) -> None: ...
        def run_blocking(self, awaitable: Any) -> Any: ...

    class ReaderApi(Protocol):
        """The reading side (reader.Reader), as the watchdog uses it."""

        eof: bool

        def read_once(self, timeout: float | None = None) -> list: ...

    class WorkerApi(Protocol):
        conn: Connection
        options: Any  # protocol.WorkerOptions (argv), or an equivalent of the remote server's
        calls: CallTable
        host: HostApi
        interrupter: Interrupter
        role: ReadRole
        queue: SimpleQueue[list]
        lifeline: Lifeline | None
        threads: ThreadsApi | None
        tools: ToolTable | None
        adapter: Any
        aio_runner: AioApi | None
        state: WorkerState
        busy_since: float | None  # written by the main thread, read by the watchdog (watchdog.py)

        def aio(self) -> AioApi: ...
        def advance(self, state: WorkerState) -> None: ...
        def host_gone(self) -> None: ...
        def post(self, batch: list) -> None: ...
        def pump_until(self, done: Callable[[], bool], timeout: float | None, run_nested: bool,
                       call: Call | None = None) -> None: ...
        def wait_for_credit(self, call: Call) -> None: ...
        def answer(self, call: Call, value: Any = None, error: dict | None = None, flush: bool = False) -> None: ...
        def chunk_frame(self, call: Call, seq: int, data: Any, final: bool) -> Any: ...
        def encode_leaves(self, call: Call | None, msg: dict, error: SerializationError) -> Any: ...
        def request_exit(self, code: object) -> None: ...
