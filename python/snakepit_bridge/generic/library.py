"""One configured library: import it (at start, or on first use when ``lazy``), find its functions, and
keep them compiled.

Security (docs/GENERIC_ADAPTER.md, "Security"; docs/SECURITY.md): only the configured module is imported; a
function path is walked with ``getattr`` one identifier at a time (never ``eval``), every segment passing the
name policy (names.py: no part starting with ``_``, no frame or code internals), and refused when it passes
through a module outside the configured one (``json.codecs``, ``pkg.os``), when it ends on a module, on
something not callable, on a builtin (``eval``, ``open``, ``type``, ...), or on a function of a module that
runs processes or code (``os.system`` re-exported) unless the library has ``allowUnsafe``.
What is served is ``expose``: the listed ``functions`` and ``aliases`` (the default), or with ``"public"``
also every public callable. Nested paths (``DataFrame.describe``) are reachable only when listed.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import sys
import threading

from ..names import REFUSED_BUILTINS, path_problem, value_problem
from .config import LibraryConfig
from .convert import ValueOptions
from .describe import public_callables
from .functions import LibraryFunction
from .hooks import load_hooks

__all__ = ["Library", "LibraryImportError", "PathRefused", "resolve_path"]

_log = logging.getLogger("snakepit_bridge.generic")


class LibraryImportError(ImportError):
    """A configured library's module cannot be imported; the message names the package to install."""


class PathRefused(LookupError):
    """A function path is not reachable (private, escaping the module, not callable, or missing)."""


def resolve_path(module, path: str, allow_unsafe: bool = False):
    """Walk ``path`` from ``module`` with ``getattr``, checking every step (see the module docstring).

    Args:
        allow_unsafe: the library opted in with ``allowUnsafe``: a function of a module that runs processes
            or code may be served.

    Raises:
        PathRefused: saying which part is refused, and why.
    """
    root = module.__name__
    problem = path_problem(path)
    if problem is not None:
        raise PathRefused("%s.%s: %s" % (root, path if len(path) <= 200 else path[:200] + "...", problem))
    obj = module
    walked = root
    for part in path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PathRefused("%s has no attribute %r" % (walked, part)) from None
        walked += "." + part
        if inspect.ismodule(obj):
            name = getattr(obj, "__name__", "?")
            if name != root and not name.startswith(root + "."):
                raise PathRefused("%s is the module %r, outside the configured module %r" % (walked, name, root))
    if inspect.ismodule(obj):
        raise PathRefused("%s is a module, not a function" % walked)
    if not callable(obj):
        raise PathRefused("%s is a %s, not a function" % (walked, type(obj).__name__))
    if id(obj) in REFUSED_BUILTINS or (
            getattr(obj, "__module__", None) == "builtins" and (inspect.isbuiltin(obj) or isinstance(obj, type))):
        raise PathRefused("%s is the builtin %r, which no library exposes" % (walked, getattr(obj, "__name__", obj)))
    problem = value_problem(obj, walked, allow_unsafe)
    if problem is not None:
        raise PathRefused(problem)
    return obj


class Library:
    """A configured library and, once loaded, its compiled functions by exposed name."""

    def __init__(self, config: LibraryConfig) -> None:
        self.config = config
        self.prefix = "python.%s." % config.namespace
        self.options = ValueOptions(config.dataframes, config.arrays)
        self.module = None
        self.hooks = None
        self.loaded = False
        self.functions = {}  # tool name -> LibraryFunction
        self.skipped = []  # discovered names that were refused (builtins re-exported, ...)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------- loading

    def load(self) -> None:
        """Import the module and compile its functions; idempotent and thread-safe.

        Raises:
            LibraryImportError: the module (or something it needs) cannot be imported.
            PathRefused: a function listed in ``functions`` or ``aliases`` is not reachable.
        """
        if self.loaded:
            return
        with self._lock:
            if self.loaded:
                return
            cfg = self.config
            module = self._import()
            self.hooks = load_hooks(cfg.hooks, cfg.cache_size)
            functions = {}
            for path, obj, listed in self._discover(module):
                functions[self.prefix + path] = LibraryFunction(self.prefix + path, path, obj, self, listed)
            for alias, path in sorted(cfg.aliases.items()):
                if path in cfg.exclude:
                    raise PathRefused("alias %r of library %r targets %r, which is excluded" % (alias, cfg.name, path))
                obj = resolve_path(module, path, cfg.allow_unsafe)
                functions[self.prefix + alias] = LibraryFunction(self.prefix + alias, path, obj, self, True)
            self.module, self.functions, self.loaded = module, functions, True

    def _import(self):
        cfg = self.config
        try:
            return importlib.import_module(cfg.module)
        except ImportError as exc:
            package = cfg.package or cfg.module.split(".")[0]
            missing = getattr(exc, "name", None)
            cause = "" if missing in (None, cfg.module, cfg.module.split(".")[0]) else \
                " (the module it needs, %r, is missing)" % missing
            raise LibraryImportError(
                "library %r cannot import module %r%s: %s. Fix: install the package into the workers' Python "
                "with `%s -m pip install %s`, or add install: { package: %r } to this library's config so "
                "snakepit installs it on start" % (cfg.name, cfg.module, cause, exc, sys.executable, package, package)
            ) from exc

    def _discover(self, module):
        """``[(path, callable, listed)]`` for this library: the listed functions, and with ``expose: "public"``
        the module's public callables too (``listed`` False for those)."""
        cfg = self.config
        listed = cfg.functions or []
        found = [(path, resolve_path(module, path, cfg.allow_unsafe), True) for path in listed
                 if path not in cfg.exclude]
        if cfg.expose != "public":
            return found
        taken = set(listed)
        for name, _obj in public_callables(module):
            if name in cfg.exclude or name in taken:
                continue
            try:
                found.append((name, resolve_path(module, name, cfg.allow_unsafe), False))
            except PathRefused as exc:
                self.skipped.append(name)
                _log.debug("library %s: not offering %s: %s", cfg.name, name, exc)
        return found

    # ------------------------------------------------------------------------------------- lookup

    def function(self, tool: str):
        """The compiled function called ``tool`` (``python.<namespace>.<name>``), or None."""
        return self.functions.get(tool)

    def close_matches(self, tool: str) -> list:
        """Up to 10 exposed names like ``tool``, for an unknown-function answer."""
        import difflib

        if len(tool) > 300:  # nothing that long is close to a real name; difflib would index it all
            return []
        names = {name[len(self.prefix):]: name for name in self.functions}
        close = difflib.get_close_matches(tool[len(self.prefix):], list(names), n=10, cutoff=0.6)
        return [names[n] for n in close]

    def describe(self) -> dict:
        """The library as ``ready`` advertises it (PROTOCOL.md section 4, LibraryInfo)."""
        version = getattr(self.module, "__version__", None) if self.module is not None else None
        return {
            "name": self.config.name,
            "module": self.config.module,
            "namespace": self.config.namespace,
            "lazy": self.config.lazy,
            "loaded": self.loaded,
            "functions": len(self.functions),
            "version": version if isinstance(version, str) else None,
        }
