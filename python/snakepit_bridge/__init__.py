"""snakepit_bridge: the Python side of snakepit, a pool of long-lived Python workers for Node.js.

Write an adapter, and the host runs it as ``python -m snakepit_bridge --adapter module:Class``:

    from snakepit_bridge import BaseAdapter, tool

    class MyAdapter(BaseAdapter):
        @tool(description="add two numbers")
        def add(self, a: int, b: int) -> int:
            return a + b
"""

__version__ = "0.1.0"  # set before the imports below: submodules read it

from .base_adapter import BaseAdapter, tool  # noqa: E402
from .errors import CallCancelled, HostToolError, UnknownHostToolError  # noqa: E402
from .session_context import SessionContext  # noqa: E402
from .stream import StreamChunk, StreamSender  # noqa: E402
from .refs import make_ref  # noqa: E402

__all__ = ["BaseAdapter", "tool", "StreamChunk", "StreamSender", "SessionContext", "CallCancelled",
           "HostToolError", "UnknownHostToolError", "make_ref"]
