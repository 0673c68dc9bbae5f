"""Python ``logging`` records forwarded to the host as ``log`` frames.

Every record created while a call runs carries the call's correlation id as ``record.correlation_id``
(None outside a call), so a formatter of the adapter's own can print it (``%(correlation_id)s``); the
forwarded frame carries it too, and the host puts it on the line it logs and on the ``log`` event.

``logging`` is not imported for that: it costs an idle worker about 0.5 MB, and an adapter that never logs
never needs it. ``install()`` puts the forwarder on the root logger the moment ``logging`` is first imported,
whoever imports it (the adapter, a library, a tool during a call): a finder first on ``sys.meta_path`` watches
for that one name and runs ``_install`` right after the module has executed, before the importer gets it back.
So code sees what it saw when the worker imported ``logging`` itself: our handler on the root logger, the root
at INFO, records stamped with the correlation id. (Should ``logging`` get in some other way, setting
``Forwarding.send`` at ``ready`` installs the forwarder then.)
"""

from __future__ import annotations

import sys
import threading

from ..session_context import correlation_id_of, current_call

__all__ = ["Forwarding", "install"]

_LEVELS = ((50, "critical"), (40, "error"), (30, "warning"), (20, "info"))  # logging.CRITICAL, ERROR, ...


def _level_name(levelno: int) -> str:
    for threshold, name in _LEVELS:
        if levelno >= threshold:
            return name
    return "debug"


def _forwarder_class(logging):
    class LogForwarder(logging.Handler):
        """Sends each record as a ``log`` frame; before the channel is usable, writes it to stderr."""

        def __init__(self) -> None:
            super().__init__()
            self.setFormatter(logging.Formatter("%(message)s"))
            self.send = None  # set once the worker is ready: a function taking one message dict

        def emit(self, record) -> None:
            try:
                text = self.format(record)
                send = self.send
                if send is None:
                    # Before ``ready`` the host expects only ``ready`` or ``fatal``; stderr is logged too.
                    sys.stderr.write("%s:%s:%s\n" % (record.levelname, record.name, text))
                    return
                msg = {"type": "log", "level": _level_name(record.levelno), "logger": record.name,
                       "message": text}
                call = current_call.get()
                if call is not None:
                    msg["call"] = call.id
                cid = getattr(record, "correlation_id", None)
                if cid is not None:
                    msg["correlation_id"] = cid
                send(msg)
            except Exception:
                self.handleError(record)  # prints to stderr; never raises into the code that logged

    return LogForwarder


def _with_correlation_id(factory):
    def make_record(*args, **kwargs):
        record = factory(*args, **kwargs)
        call = current_call.get()
        record.correlation_id = correlation_id_of(call) if call is not None else None
        return record

    make_record.snakepit = True
    return make_record


class Forwarding:
    """Where log records go: ``send`` (None until the worker is ready: stderr) and the handler, once there is one."""

    def __init__(self) -> None:
        self.handler = None
        self.hooked = False  # our finder saw the import: it installs once the module has executed
        self._send = None
        self._lock = threading.Lock()  # a thread may import logging while the main thread sets ``send``

    @property
    def send(self):
        return self._send

    @send.setter
    def send(self, send) -> None:
        with self._lock:
            self._send = send
            if self.handler is not None:
                self.handler.send = send
                return
        if not self.hooked and "logging" in sys.modules:  # imported past our finder (one put before it)
            try:
                self._install(sys.modules["logging"])
            except Exception:  # still executing in another thread: no forwarding rather than a failed start
                pass

    def _install(self, logging) -> None:
        """Put a forwarder on the root logger (level INFO), replacing Python's stderr fallback, and stamp each
        record with the current call's correlation id."""
        with self._lock:
            if self.handler is not None:
                return
            factory = logging.getLogRecordFactory()
            if not getattr(factory, "snakepit", False):
                logging.setLogRecordFactory(_with_correlation_id(factory))
            handler = _forwarder_class(logging)()
            handler.send = self._send
            root = logging.getLogger()
            root.addHandler(handler)
            if root.level == logging.WARNING:  # the default: lower it so INFO records are forwarded
                root.setLevel(logging.INFO)
            self.handler = handler


def install() -> Forwarding:
    """Forward ``logging`` records from now on: at once if ``logging`` is imported, else when it is."""
    forwarding = Forwarding()
    if "logging" in sys.modules:
        forwarding._install(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _WhenImported(forwarding))
    return forwarding


class _WhenImported:
    """A meta path finder for one name, ``logging``: it finds nothing itself, but wraps the loader the other
    finders give so that ``Forwarding._install`` runs right after the module executed. Then it removes itself."""

    def __init__(self, forwarding: Forwarding) -> None:
        self.forwarding = forwarding

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        import importlib.util  # loaded already: runpy uses it to run ``-m snakepit_bridge``

        spec = importlib.util.find_spec(name)  # what the import would have found without us
        if spec is not None and spec.loader is not None:
            spec.loader = _InstallAfter(spec.loader, self.forwarding)
            self.forwarding.hooked = True
        return spec

    def find_module(self, name, path=None):  # the pre-3.4 protocol, still called by some old code
        return None


class _InstallAfter:
    """The loader of ``logging``, plus the install once the module has executed."""

    def __init__(self, loader, forwarding: Forwarding) -> None:
        self._loader = loader
        self._forwarding = forwarding

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        loader = self._loader
        try:
            loader.exec_module(module)
        finally:  # the module's own loader, for whoever looks (importlib.reload, linecache)
            module.__loader__ = loader
            if getattr(module, "__spec__", None) is not None:
                module.__spec__.loader = loader
        self._forwarding._install(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)
