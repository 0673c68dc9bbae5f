"""The generic adapter's configuration: read from the worker's environment and checked again here.

The host validates ``libraries`` when the pool starts (src/config/library-config.ts) and passes the result
as JSON in one environment variable (PROTOCOL.md section 8). The worker checks it once more with the same
patterns, so a hand-started worker cannot be talked into importing what a host would have refused.

    SNAKEPIT_GENERIC_CONFIG = {"version": 1, "adapter": "pkg.mod:Class" | null,
                               "libraries": [{"name", "module", "namespace", "functions", "exclude", "aliases",
                                              "expose", "allow_unsafe", "lazy", "hooks", "dataframes",
                                              "arrays", "cache_size", "package", "install"}]}

Exposure (docs/GENERIC_ADAPTER.md, "Security"): ``expose`` is ``"listed"`` by default (only ``functions`` and
``aliases``), so a library with neither is refused; ``"public"`` adds every public callable. A module that runs
processes or code (names.UNSAFE_MODULES: os, subprocess, pickle, ...) needs ``allow_unsafe``; the few that would
evaluate or import anything (REFUSED_MODULES) are refused whatever the configuration says.
"""

from __future__ import annotations

import json
import os
import re

from ..names import is_unsafe_module

__all__ = ["CONFIG_ENV", "MAX_CONFIG_BYTES", "LibraryConfig", "GenericConfig", "ConfigProblem", "load_config",
           "parse_config"]

CONFIG_ENV = "SNAKEPIT_GENERIC_CONFIG"
MAX_CONFIG_BYTES = 64 * 1024  # also the host's limit: an environment string must stay well under 128 KiB

_IDENT = r"[A-Za-z][A-Za-z0-9_]*"
MODULE_RE = re.compile(r"^%s(\.%s)*$" % (_IDENT, _IDENT))  # no leading "_" in any part: nothing private
PATH_RE = MODULE_RE  # a function path: "sqrt", "DataFrame.describe"
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
NAMESPACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
HOOK_RE = re.compile(r"^(timing|log|cache|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*)$")
ADAPTER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*([:.][A-Za-z_][A-Za-z0-9_]*)$")
MAX_PATH_CHARS = 200
# Modules whose functions run arbitrary code or import arbitrary modules (eval, exec, import_module),
# which would make every other rule moot. Powerful but ordinary libraries (os, subprocess, pickle) are
# the operator's choice; docs/GENERIC_ADAPTER.md says what exposing them means.
REFUSED_MODULES = frozenset(["builtins", "__builtin__", "importlib", "runpy", "code", "codeop", "ctypes"])
EXPOSE_CHOICES = ("listed", "public")


class ConfigProblem(ValueError):
    """The generic adapter's configuration is not valid; the message names the key."""


class LibraryConfig:
    """One configured library, checked."""

    __slots__ = ("name", "module", "namespace", "functions", "exclude", "aliases", "expose", "allow_unsafe",
                 "lazy", "hooks", "dataframes", "arrays", "cache_size", "package")

    def __init__(self, raw: dict, where: str) -> None:
        if not isinstance(raw, dict):
            raise ConfigProblem("%s must be an object" % where)
        self.name = _match(raw.get("name"), NAME_RE, where + ".name", "a library name (letters, digits, _ and -)")
        self.module = _match(raw.get("module"), MODULE_RE, where + ".module",
                             "a module name such as numpy or docling.document_converter")
        if self.module.split(".")[0] in REFUSED_MODULES:
            raise ConfigProblem("%s.module: %r runs arbitrary code (eval, exec or imports) and cannot be a library"
                                % (where, self.module))
        self.namespace = _match(raw.get("namespace", self.name), NAMESPACE_RE, where + ".namespace",
                                "letters, digits and _")
        functions = raw.get("functions")
        self.functions = None if functions is None else _paths(functions, where + ".functions")
        self.exclude = frozenset(_paths(raw.get("exclude") or [], where + ".exclude"))
        aliases = raw.get("aliases") or {}
        if not isinstance(aliases, dict):
            raise ConfigProblem("%s.aliases must be an object of alias -> function" % where)
        for alias, target in aliases.items():
            _match(alias, ALIAS_RE, "%s.aliases key" % where, "a plain name")
            _match(target, PATH_RE, "%s.aliases.%s" % (where, alias), "a function path")
        self.aliases = dict(aliases)
        self.expose = _choice(raw.get("expose", "listed"), EXPOSE_CHOICES, where + ".expose")
        self.allow_unsafe = _bool(raw.get("allow_unsafe", False), where + ".allow_unsafe")
        if is_unsafe_module(self.module) and not self.allow_unsafe:
            raise ConfigProblem("%s.module: %r can run processes or code; a library of it needs allow_unsafe: true "
                                "(allowUnsafe on the host), and then only for callers you trust"
                                % (where, self.module))
        self.lazy = _bool(raw.get("lazy", False), where + ".lazy")
        hooks = raw.get("hooks") or []
        if not isinstance(hooks, list):
            raise ConfigProblem("%s.hooks must be a list" % where)
        self.hooks = [_match(h, HOOK_RE, "%s.hooks[%d]" % (where, i), '"timing", "log", "cache" or "module:attr"')
                      for i, h in enumerate(hooks)]
        self.dataframes = _choice(raw.get("dataframes", "records"), ("records", "columns", "arrow"),
                                  where + ".dataframes")
        self.arrays = _choice(raw.get("arrays", "typed"), ("typed", "lists"), where + ".arrays")
        cache_size = raw.get("cache_size", 1024)
        if type(cache_size) is not int or not 1 <= cache_size <= 1_000_000:
            raise ConfigProblem("%s.cache_size must be an integer from 1 to 1000000" % where)
        self.cache_size = cache_size
        package = raw.get("package")
        self.package = package if isinstance(package, str) else None
        if self.expose == "listed" and not self.functions and not self.aliases:
            raise ConfigProblem("%s exposes nothing: list the functions callers may use in functions (or aliases), "
                                "or set expose to \"public\" to serve every public callable of %r (only for callers "
                                "you trust)" % (where, self.module))


class GenericConfig:
    """The whole configuration: the libraries, and the adapter the generic one wraps (or None)."""

    __slots__ = ("adapter", "libraries")

    def __init__(self, adapter, libraries) -> None:
        self.adapter = adapter
        self.libraries = libraries


def parse_config(raw) -> GenericConfig:
    """Check a decoded configuration.

    Raises:
        ConfigProblem: naming the key at fault.
    """
    if not isinstance(raw, dict):
        raise ConfigProblem("the generic adapter's configuration must be an object")
    adapter = raw.get("adapter")
    if adapter is not None:
        _match(adapter, ADAPTER_RE, "adapter", "module:Class")
    libraries = raw.get("libraries")
    if not isinstance(libraries, list):
        raise ConfigProblem("libraries must be a list")
    found = [LibraryConfig(lib, "libraries[%d]" % i) for i, lib in enumerate(libraries)]
    for attr in ("name", "namespace"):
        seen = {}
        for i, lib in enumerate(found):
            value = getattr(lib, attr)
            if value in seen:
                raise ConfigProblem("libraries[%d].%s duplicates libraries[%d]: %r" % (i, attr, seen[value], value))
            seen[value] = i
    return GenericConfig(adapter, found)


def load_config(env=None) -> GenericConfig:
    """Read and check the configuration from ``SNAKEPIT_GENERIC_CONFIG``.

    Raises:
        ConfigProblem: the variable is missing, too large, not JSON, or not a valid configuration.
    """
    text = (os.environ if env is None else env).get(CONFIG_ENV)
    if not text:
        raise ConfigProblem("%s is not set: the generic adapter is configured by the host's `libraries` option"
                            % CONFIG_ENV)
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigProblem("%s is %d bytes; the limit is %d" % (CONFIG_ENV, len(text), MAX_CONFIG_BYTES))
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ConfigProblem("%s is not valid JSON: %s" % (CONFIG_ENV, exc)) from None
    return parse_config(raw)


def _match(value, pattern, key: str, expected: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_PATH_CHARS or not pattern.match(value):
        raise ConfigProblem("%s must be %s, got %r" % (key, expected, value))
    return value


def _paths(value, key: str) -> list:
    if not isinstance(value, list):
        raise ConfigProblem("%s must be a list of function names" % key)
    return [_match(v, PATH_RE, "%s[%d]" % (key, i), "a function path such as sqrt or DataFrame.describe")
            for i, v in enumerate(value)]


def _bool(value, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigProblem("%s must be true or false, got %r" % (key, value))
    return value


def _choice(value, choices, key: str) -> str:
    if value not in choices:
        raise ConfigProblem("%s must be one of %s, got %r" % (key, ", ".join(choices), value))
    return value
