"""``GenericPythonAdapter``: any configured Python library's functions as tools, with no adapter code.

    execute("python.math.sqrt", {"_args": [16]})              -> 4.0
    execute("python.json.dumps", {"_args": [obj], "indent": 2})

How it plugs into the dispatcher (dispatch/tools.py): the adapter has no ``@tool`` methods of its own; it
answers ``resolve_tool(name)``, which the tool table asks for every name it does not know, on the reader
thread. So argument checks (``invalid_arguments`` naming the signature) happen before a call is queued,
``async def`` functions start on the event loop at once, and generator functions are refused for
``execute`` before they run, exactly as for ``@tool`` methods.

    resolve_tool("python.<ns>.<name>")
        library loaded        -> its LibraryFunction (a dict lookup)
        library lazy, not yet -> a _PendingFunction: on the main thread, loads the library, then checks and calls
        unknown name          -> an _ErrorTool that answers ``unknown_tool`` with close matches
    resolve_tool(anything else) -> the wrapped adapter's tool (pools that combine an adapter with libraries),
                                   or an _ErrorTool listing that adapter's tools and the library namespaces
"""

from __future__ import annotations

import inspect

from ..base_adapter import BaseAdapter
from ..errors import BridgeError
from ..names import clip, short
from ..session_context import current_call
from .config import GenericConfig, load_config, parse_config
from .library import Library

__all__ = ["GenericPythonAdapter"]

PREFIX = "python."


class GenericPythonAdapter(BaseAdapter):
    """Serves ``python.<namespace>.<function>`` for the configured libraries (see the module docstring).

    Args:
        config: the configuration (a ``GenericConfig`` or its JSON form as a dict); default: read from
            the ``SNAKEPIT_GENERIC_CONFIG`` environment variable, as the host passes it.
    """

    def __init__(self, config=None) -> None:
        if config is None:
            config = load_config()
        elif not isinstance(config, GenericConfig):
            config = parse_config(config)
        self.config = config
        self.libraries = [Library(lib) for lib in config.libraries]
        self._by_namespace = {lib.config.namespace: lib for lib in self.libraries}
        self._tools = {}  # tool name -> LibraryFunction, for loaded libraries
        self.inner = None  # the wrapped adapter, when the pool names one
        self._inner_table = None
        self._inner_tools = {}

    def thread_safety(self):
        """For the thread profile (thread_safety_checker.py): the wrapped adapter's declaration when there is
        one; otherwise True: each call of a library function gets its own arguments (objects shared through
        references are the caller's to keep apart)."""
        if self.config.adapter is None:
            return True
        from ..thread_safety_checker import adapter_thread_safety

        return adapter_thread_safety(self.inner)

    # ------------------------------------------------------------------------------------ lifecycle

    def initialize(self):
        """Create the wrapped adapter, import the eager libraries, then run the wrapped ``initialize``."""
        if self.config.adapter is not None:
            self._start_inner(self.config.adapter)
        for lib in self.libraries:
            if not lib.config.lazy:
                lib.load()
                self._tools.update(lib.functions)
        init = getattr(self.inner, "initialize", None)
        return init() if init is not None else None  # awaited by the worker when it is a coroutine

    def cleanup(self):
        cleanup = getattr(self.inner, "cleanup", None)
        return cleanup() if cleanup is not None else None

    def _start_inner(self, spec: str) -> None:
        from ..dispatch.startup import load_adapter_class
        from ..dispatch.tools import ToolTable

        _module, _name, cls = load_adapter_class(spec)
        self.inner = cls()
        self._inner_table = ToolTable(self.inner)

    # ------------------------------------------------------------------------------------ dispatch

    def resolve_tool(self, name: str):
        """The tool called ``name``, or None (reader thread: never imports or runs user code)."""
        tool = self._tools.get(name)
        if tool is not None:
            return tool
        if name.startswith(PREFIX):
            namespace, _, _rest = name[len(PREFIX):].partition(".")
            lib = self._by_namespace.get(namespace)
            if lib is not None:
                if not lib.loaded:
                    return _PendingFunction(self, lib, name)
                tool = lib.function(name)
                if tool is not None:
                    return tool
                return _ErrorTool(name, _unknown_function(lib, name))
        inner = self._inner_tool(name)
        if inner is not None:
            return inner
        if name.startswith(PREFIX):
            return _ErrorTool(name, _unknown_namespace(self, name))
        return _ErrorTool(name, _unknown_name(self, name))

    def _inner_tool(self, name: str):
        table = self._inner_table
        if table is None:
            return None
        tool = self._inner_tools.get(name)
        if tool is None:
            if table.execute_tool is not None:
                tool = _ExecuteToolProxy(name, self.inner)
            else:
                tool = table.get(name)
                if tool is not None and table.assign_context:
                    tool = _with_context(tool, self.inner)
            if tool is not None:
                self._inner_tools[name] = tool
        return tool

    def loaded(self, lib: Library) -> None:
        """Main thread: a lazy library just loaded; from now on its functions resolve directly."""
        self._tools.update(lib.functions)

    # ---------------------------------------------------------------------------------- discovery

    def get_tools(self) -> list:
        """ToolSpecs for ``ready``: the wrapped adapter's tools, then every loaded library function."""
        specs = list(self._inner_table.specs()) if self._inner_table is not None else []
        for lib in self.libraries:
            specs.extend(fn.spec for fn in lib.functions.values())
        return specs

    def describe_libraries(self) -> list:
        """LibraryInfo for ``ready`` (PROTOCOL.md section 4)."""
        return [lib.describe() for lib in self.libraries]


# -------------------------------------------------------------------------------- tool-like helpers


class _ToolLike:
    """The attributes the dispatcher reads from a tool (dispatch/tools.py ``Tool``)."""

    is_async = False
    is_asyncgen = False
    is_generator = False
    streams = False
    style = None

    def problem(self, args: dict):
        return None


class _PendingFunction(_ToolLike):
    """A function of a lazy library that is not imported yet: the call itself loads it (main thread)."""

    def __init__(self, adapter: GenericPythonAdapter, lib: Library, name: str) -> None:
        self.name = name
        self.spec = {"name": name, "signature": "%s(...)" % name[len(lib.prefix):], "description": "",
                     "supports_streaming": False, "parameters": []}
        self._adapter, self._lib = adapter, lib

    def func(self, **args):
        lib = self._lib
        lib.load()
        self._adapter.loaded(lib)
        tool = lib.function(self.name)
        if tool is None:
            raise BridgeError("unknown_tool", "unknown tool %r" % self.name, _unknown_function(lib, self.name))
        problem = tool.problem(args)
        call = current_call.get()
        if problem is None and (tool.is_generator or tool.is_asyncgen) and (call is None or not call.stream):
            problem = "tool %r is a stream: use a stream call" % self.name
        if problem is not None:
            raise BridgeError("invalid_arguments", "%s() %s" % (self.name, problem),
                              {"tool": self.name, "signature": tool.spec["signature"], "problem": problem})
        return tool.func(**args)  # a coroutine or generator goes on to the loop / the stream as usual


class _ErrorTool(_ToolLike):
    """Answers ``unknown_tool`` from the main thread, with the names that come close."""

    def __init__(self, name: str, details: dict) -> None:
        self.name = name
        self.spec = {"name": name, "signature": "", "description": "", "supports_streaming": False,
                     "parameters": []}
        self._details = details

    def func(self, **args):
        details = dict(self._details)
        raise BridgeError("unknown_tool", details.pop("message"), details)


def _unknown_function(lib: Library, name: str) -> dict:
    close = lib.close_matches(name)
    path = name[len(lib.prefix):]
    hint = ""
    if path.startswith("_") or "._" in path:
        hint = "; names starting with _ are private and never reachable"
    elif lib.config.expose == "listed":
        hint = "; this library serves only the functions listed in its functions and aliases"
    elif "." in path:
        hint = "; nested paths such as %r are reachable only when listed in the library's functions" % path
    reason = "library %r (module %r) has no public function %s%s" % (lib.config.name, lib.config.module, short(path),
                                                                    hint)
    return {"message": "unknown tool %s: %s" % (short(name), reason), "reason": reason, "tool": clip(name),
            "available": close}


def _unknown_namespace(adapter: GenericPythonAdapter, name: str) -> dict:
    namespaces = ["python.%s.*" % ns for ns in sorted(adapter._by_namespace)]
    reason = "no library has the namespace %s (configured: %s)" % (
        short(name[len(PREFIX):].partition(".")[0]), ", ".join(namespaces) or "none")
    return {"message": "unknown tool %s: %s" % (short(name), reason), "reason": reason, "tool": clip(name),
            "available": []}


def _unknown_name(adapter: GenericPythonAdapter, name: str) -> dict:
    tools = adapter._inner_table.names() if adapter._inner_table is not None else []
    namespaces = ["python.%s.*" % ns for ns in sorted(adapter._by_namespace)]
    return {"message": "unknown tool %s" % short(name), "tool": clip(name), "available": tools + namespaces}


class _ExecuteToolProxy(_ToolLike):
    """A name the wrapped adapter's ``execute_tool(tool_name, arguments, context)`` serves."""

    def __init__(self, name: str, inner) -> None:
        self.name = name
        self.spec = {"name": name, "signature": "", "description": "", "supports_streaming": False,
                     "parameters": []}
        execute = inner.execute_tool
        if inspect.iscoroutinefunction(execute):
            self.is_async = True

            async def run(**args):
                call = current_call.get()
                return await execute(name, args, call.context if call is not None else None)
        else:
            def run(**args):
                call = current_call.get()
                return execute(name, args, call.context if call is not None else None)
        self.func = run


def _with_context(tool, inner):
    """A copy of a wrapped adapter's tool that sets ``inner.session_context`` first (adapters that are not
    BaseAdapters read it as an attribute)."""
    from ..dispatch.tools import Tool

    func = tool.func

    def set_context():
        call = current_call.get()
        if call is not None:
            try:
                inner.session_context = call.context
            except AttributeError:
                pass

    if tool.is_asyncgen:
        async def wrapped(**args):
            set_context()
            async for item in func(**args):
                yield item
    elif tool.is_async:
        async def wrapped(**args):
            set_context()
            return await func(**args)
    elif tool.is_generator:
        def wrapped(**args):
            set_context()
            return (yield from func(**args))
    else:
        def wrapped(**args):
            set_context()
            return func(**args)
    copy = Tool.__new__(Tool)
    for slot in Tool.__slots__:
        setattr(copy, slot, getattr(tool, slot))
    copy.func = wrapped
    return copy
