"""``SessionContext``: what a tool knows about the call it serves, and its way back to the host.

The worker keeps the running call in a ``contextvars.ContextVar`` (``current_call``), so
``BaseAdapter.session_context`` is right for each call, including async tools that run concurrently
on the event loop (each task has its own context).
"""

from __future__ import annotations

import time

from .call_context import correlation_id_of, current_call

__all__ = ["SessionContext", "HostTool", "LIST_TOOLS", "correlation_id_of", "current_call", "current_context"]

# The host answers this name itself: the host tools visible to the calling session (PROTOCOL.md section 6).
LIST_TOOLS = "__snakepit__.host_tools"

def current_context() -> SessionContext | None:
    """The SessionContext of the call being handled here, or None outside a call."""
    call = current_call.get()
    return call.context if call is not None else None


class SessionContext:
    """Per-call context handed to tools.

    Attributes:
        session_id: the call's session, or None.
        request_metadata: ``tool``, ``correlation_id`` (the host's, else ``<run id>-<call id>``), and when
            the host sent one ``trace`` (``{traceparent, tracestate}``).
        deadline: a ``time.monotonic()`` value by which the host wants the answer, or None.
        call_id: the call's id on the channel.
    """

    def __init__(self, session_id: str | None = None, request_metadata: dict | None = None,
                 deadline: float | None = None, call_id: int | None = None, *, client: object = None) -> None:
        self.session_id = session_id
        self.request_metadata = request_metadata if request_metadata is not None else {}
        self.deadline = deadline
        self.call_id = call_id
        self._client = client
        self._host_tools: dict | None = None  # {name: HostTool}, fetched on first use of host_tools

    def __repr__(self) -> str:
        return "SessionContext(session_id=%r, call_id=%r)" % (self.session_id, self.call_id)

    @property
    def correlation_id(self) -> str | None:
        """The call's correlation id (see ``request_metadata``)."""
        return self.request_metadata.get("correlation_id")

    def time_remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or None without a deadline."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    # ------------------------------------------------------------------------ session state

    def store(self, key: str, value: object) -> None:
        """Keep ``value`` under ``key`` for this session, in this worker, until the session ends.

        Raises:
            RuntimeError: the call has no session.
        """
        from .sessions import STATES

        STATES.store(self._require_session("store"), key, value)

    def retrieve(self, key: str, default: object = None) -> object:
        """The value stored under ``key`` in this session, or ``default``.

        Raises:
            RuntimeError: the call has no session.
        """
        from .sessions import STATES

        return STATES.retrieve(self._require_session("retrieve"), key, default)

    def delete(self, key: str) -> bool:
        """Forget ``key`` in this session; True if it was there.

        Raises:
            RuntimeError: the call has no session.
        """
        from .sessions import STATES

        return STATES.delete(self._require_session("delete"), key)

    def ref(self, obj: object):
        """Keep ``obj`` in this worker and return a reference to put in the result (PyRef on the host).

        Raises:
            RuntimeError: the call has no session.
        """
        from .refs import make_ref

        return make_ref(obj, self._require_session("ref"))

    def _require_session(self, what: str) -> str:
        if self.session_id is None:
            raise RuntimeError("SessionContext.%s() needs a session: call the tool in a session "
                               "(executeInSession, or the sessionId option)" % what)
        return self.session_id

    # --------------------------------------------------------------------------- host tools

    def call_host_tool(self, name: str, /, **kwargs: object) -> object:
        """Call the host tool ``name`` with ``kwargs`` and return its result (``name`` is positional-only, so a
        tool may itself take an argument called ``name``).

        Blocks until the host answers, bounded by the call's deadline. From a sync tool the worker keeps
        serving other calls meanwhile (so the host tool may call back into this worker). In async tools
        prefer ``await ctx.acall_host_tool(...)``, which does not block the event loop.

        Raises:
            HostToolError: the host tool failed, or did not answer before the deadline.
            CallCancelled: this call was cancelled while waiting.
        """
        return self._require_client().call(self, name, kwargs)

    async def acall_host_tool(self, name: str, /, **kwargs: object) -> object:
        """``call_host_tool`` for async tools: awaits the answer without blocking the event loop."""
        return await self._require_client().acall(self, name, kwargs)

    # Snakepit (Elixir) names. Snakepit's ``call_elixir_tool(name, parameters)`` takes the arguments as one dict;
    # both that and keywords work (a dict and keywords together are merged, keywords winning).
    def call_elixir_tool(self, name: str, parameters: dict | None = None, /, **kwargs: object) -> object:
        """``call_host_tool`` with Snakepit's spelling: ``ctx.call_elixir_tool("t", {"a": 1})`` or ``(..., a=1)``."""
        return self.call_host_tool(name, **_merged(name, parameters, kwargs))

    async def acall_elixir_tool(self, name: str, parameters: dict | None = None, /, **kwargs: object) -> object:
        """``acall_host_tool`` with Snakepit's spelling (a dict of arguments, or keywords)."""
        return await self.acall_host_tool(name, **_merged(name, parameters, kwargs))

    def get_exposed_elixir_tools(self) -> list:
        """Snakepit's name for ``list_host_tools``."""
        return self.list_host_tools()

    def list_host_tools(self) -> list:
        """The host tools this call's session may use: ``[{name, description, parameters}]``, where
        ``parameters`` is the JSON Schema of the tool's arguments. One round trip to the host.

        Raises:
            RuntimeError: no call is running (no host to ask).
        """
        return self._require_client().call(self, LIST_TOOLS, {})

    async def alist_host_tools(self) -> list:
        """``list_host_tools`` for async tools."""
        return await self._require_client().acall(self, LIST_TOOLS, {})

    @property
    def host_tools(self) -> dict:
        """The host tools this call's session may use, by name: callables (``ctx.host_tools["x"](a=1)``)
        with ``__name__``, ``__doc__``, ``description`` and ``parameters`` (JSON Schema).

        Asked of the host on first use in each call (global tools and this session's own); empty when
        the context is not connected to a host.
        """
        if self._host_tools is None:
            if self._client is None:
                return {}
            self._host_tools = {spec["name"]: HostTool(self, spec) for spec in self.list_host_tools()
                                if isinstance(spec, dict) and isinstance(spec.get("name"), str)}
        return self._host_tools

    elixir_tools = host_tools

    def _require_client(self):
        if self._client is None:
            raise RuntimeError("this SessionContext is not connected to a host (no call is running)")
        return self._client


def _merged(name: str, parameters, kwargs: dict) -> dict:
    if parameters is None:
        return kwargs
    if not isinstance(parameters, dict):
        raise TypeError("call_elixir_tool(%r, parameters): parameters must be a dict, got %s"
                        % (name, type(parameters).__name__))
    return {**parameters, **kwargs}


class HostTool:
    """A host tool as Python sees it: call it like a function (keyword arguments)."""

    def __init__(self, context: SessionContext, spec: dict) -> None:
        self._context = context
        self.__name__ = spec["name"]
        self.description = spec.get("description") or ""
        self.parameters = spec.get("parameters") if isinstance(spec.get("parameters"), dict) else {}
        self.__doc__ = self.description

    def __call__(self, **kwargs: object) -> object:
        return self._context.call_host_tool(self.__name__, **kwargs)

    async def acall(self, **kwargs: object) -> object:
        """Awaitable form, for async tools."""
        return await self._context.acall_host_tool(self.__name__, **kwargs)

    def __repr__(self) -> str:
        return "HostTool(%r)" % self.__name__
