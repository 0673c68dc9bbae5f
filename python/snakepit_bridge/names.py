"""The name policy: one rule for every Python name a caller's text resolves.

Callers name Python things in several places: generic functions and their dotted paths and aliases
(``python.<ns>.<path>``), the method and attribute of ``callMethod`` / ``getAttr`` (the reserved
``__snakepit__.call_method`` / ``__snakepit__.get_attr`` tools, reached locally, over gRPC or through
Snakepit's ExecuteTool alike). Those texts are untrusted (web requests, LLM tool calls), and one dunder
is enough to walk from any object to ``eval`` (``x.__reduce_ex__(2)[0].__builtins__["eval"]``). So every
such name, and the object it reaches, passes this module (docs/SECURITY.md, "Name policy"):

- a name is one identifier: letters, digits and ``_``, at most ``MAX_NAME_CHARS``, never starting with
  ``_`` (no dunder, no private name; a dotted path is checked segment by segment);
- public names that still reach the interpreter's insides (a generator's ``gi_frame``, a frame's
  ``f_globals``, a traceback's ``tb_frame``, ...) are refused by name (``INTERNAL_NAMES``);
- what a name reaches must not be a module (modules are exposed only as configured libraries), a frame,
  code or traceback object, a builtin that evaluates or reaches code (``eval``, ``getattr``, ``open``, ...),
  or a function of a module that runs processes or code (``UNSAFE_MODULES``: ``os.system``,
  ``subprocess.run``, ``pickle.loads``, ...) unless the caller of ``value_problem`` allows those.

Every refusal names the policy (``POLICY``) so the caller's ``InvalidArgumentsError`` says why.
"""

from __future__ import annotations

import builtins
import re
import types

__all__ = ["POLICY", "MAX_NAME_CHARS", "INTERNAL_NAMES", "EVALUATING_METHODS", "UNSAFE_MODULES", "REFUSED_BUILTINS",
           "name_problem", "member_problem", "path_problem", "value_problem", "object_problem", "result_problem",
           "is_unsafe_module", "short", "clip"]

POLICY = "the name policy"
MAX_NAME_CHARS = 200
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

# Public attribute names of frames, code objects, generators, coroutines, async generators and
# tracebacks (and their Python 2 spellings) that lead to globals, builtins or code: refused by name.
INTERNAL_NAMES = frozenset([
    "gi_frame", "gi_code", "gi_yieldfrom", "gi_suspended",
    "cr_frame", "cr_code", "cr_await", "cr_origin", "cr_suspended",
    "ag_frame", "ag_code", "ag_await",
    "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "f_trace", "f_lineno",
    "tb_frame", "tb_next",
    "func_globals", "func_code", "func_closure", "func_defaults", "func_dict",
    "im_func", "im_self", "im_class",
    "co_code", "co_consts", "co_names",
])

# Public methods that evaluate a caller's text as code or reach attributes named in it (DataFrame.eval and
# query, numexpr's evaluate, str.format's "{0.__class__}", sympy's sympify): refused as members of a reference,
# since their argument is a second way to spell a name. A library function of that name is the operator's
# explicit choice (``functions``) and is not affected.
EVALUATING_METHODS = frozenset(["eval", "exec", "evaluate", "query", "format", "format_map", "sympify",
                                "parse_expr"])

# Modules whose functions start processes, run code, load code from bytes, or reach any object or module by
# name. Matched on the top-level package, leading underscores ignored (``_pickle``, ``_posixsubprocess``).
# A library from one of them needs the explicit ``allowUnsafe`` opt-in; through a reference they are never
# reachable.
UNSAFE_MODULES = frozenset([
    "os", "posix", "nt", "subprocess", "posixsubprocess", "pty", "sys", "builtins", "builtin", "importlib", "imp",
    "pkgutil", "pydoc", "runpy", "code", "codeop", "ctypes", "cffi", "pickle", "cpickle", "dill", "cloudpickle",
    "shelve", "marshal", "shutil", "multiprocessing", "concurrent", "asyncio", "signal", "gc", "inspect",
    "operator", "timeit", "cprofile", "profile", "pdb", "bdb", "trace", "doctest", "webbrowser", "site",
    "ensurepip", "venv", "pip", "zipimport", "compileall", "py_compile", "thread", "winapi",
])

# Builtins that evaluate code, import, reach attributes by name, or open files: refused wherever a name
# reaches them, under any name they are re-exported as.
REFUSED_BUILTINS = frozenset(id(getattr(builtins, name)) for name in (
    "eval", "exec", "compile", "__import__", "breakpoint", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "open", "input", "exit", "quit", "help") if hasattr(builtins, name))

_INTERNAL_TYPES = (types.FrameType, types.CodeType, types.TracebackType, types.ModuleType)


def short(text, limit: int = 80) -> str:
    """``repr(text)``, cut to about ``limit`` characters (names from callers may be megabytes long)."""
    if not isinstance(text, str):
        return type(text).__name__
    if len(text) <= limit:
        return repr(text)
    return "%r... (%d characters)" % (text[:limit], len(text))


MAX_ECHO_CHARS = 1024


def clip(text):
    """``text`` as error details may carry it back: at most ``MAX_ECHO_CHARS`` characters."""
    return text[:MAX_ECHO_CHARS] if isinstance(text, str) and len(text) > MAX_ECHO_CHARS else text


def name_problem(name) -> str | None:
    """Why ``name`` (one attribute name from a caller) is refused, or None."""
    if not isinstance(name, str):
        return "%s refuses a name that is not a string (got %s)" % (POLICY, type(name).__name__)
    if len(name) > MAX_NAME_CHARS:
        return "%s refuses names longer than %d characters (got %s)" % (POLICY, MAX_NAME_CHARS, short(name))
    if name.startswith("_"):
        return "%s refuses %s: names starting with _ (private names and dunders such as __class__) are never " \
               "reachable" % (POLICY, short(name))
    if not _IDENT.match(name):
        return "%s refuses %s: a name is one identifier (letters, digits and _)" % (POLICY, short(name))
    if name in INTERNAL_NAMES:
        return "%s refuses %r: it reaches the interpreter's frames, code or globals" % (POLICY, name)
    return None


def member_problem(name) -> str | None:
    """Why ``name`` may not be looked up on an object a reference holds (``callMethod``, ``getAttr``), or None:
    ``name_problem``, and the methods that evaluate their argument (``EVALUATING_METHODS``)."""
    problem = name_problem(name)
    if problem is None and name in EVALUATING_METHODS:
        problem = "%s refuses %r on a reference: it evaluates its argument as code or as attribute names" % (
            POLICY, name)
    return problem


def path_problem(path) -> str | None:
    """Why a dotted path (``DataFrame.describe``) is refused, or None: every segment is a name."""
    if not isinstance(path, str) or not path:
        return "%s refuses an empty path" % POLICY
    if len(path) > MAX_NAME_CHARS:
        return "%s refuses paths longer than %d characters (got %s)" % (POLICY, MAX_NAME_CHARS, short(path))
    for part in path.split("."):
        problem = name_problem(part)
        if problem is not None:
            return problem
    return None


def is_unsafe_module(module) -> bool:
    """Whether the module named ``module`` (``"os.path"``, ``"_pickle"``) belongs to ``UNSAFE_MODULES``."""
    if not isinstance(module, str) or not module:
        return False
    return module.split(".", 1)[0].lstrip("_").lower() in UNSAFE_MODULES


def _module_of(value):
    try:  # an object's own __getattr__ runs here; whatever it raises, the answer is "unknown"
        module = getattr(value, "__module__", None)
        if isinstance(module, str):
            return module
        owner = getattr(value, "__self__", None)  # a builtin method: its object's class decides
        if owner is not None and not isinstance(owner, types.ModuleType):
            module = getattr(type(owner), "__module__", None)
            return module if isinstance(module, str) else None
    except Exception:
        pass
    return None


def value_problem(value, what: str, allow_unsafe: bool = False) -> str | None:
    """Why the object a name reached (``what`` names it for the message) may not be used, or None.

    Args:
        value: the object found.
        what: how the message names it (``"Model.load"``).
        allow_unsafe: a library that opted in with ``allowUnsafe``: functions of ``UNSAFE_MODULES`` pass
            (modules, internals and the refused builtins never do).
    """
    if isinstance(value, _INTERNAL_TYPES):
        kind = "a module (modules are reachable only as configured libraries)" \
            if isinstance(value, types.ModuleType) else "a %s object" % type(value).__name__
        return "%s refuses %s: it is %s" % (POLICY, what, kind)
    try:
        refused = id(value) in REFUSED_BUILTINS
    except Exception:  # pragma: no cover - id() does not fail
        refused = False
    if refused:
        return "%s refuses %s: it is the builtin %r, which evaluates code or reaches any object" % (
            POLICY, what, getattr(value, "__name__", "?"))
    if not allow_unsafe and callable(value):
        module = _module_of(value)
        if module != "builtins" and is_unsafe_module(module):  # the dangerous builtins are refused above
            return "%s refuses %s: it belongs to %r, a module that runs processes or code (a library of " \
                   "such a module needs allowUnsafe: true)" % (POLICY, what, module)
    return None


def object_problem(obj, what: str) -> str | None:
    """Why names may not be looked up on ``obj`` at all (the object a reference holds), or None."""
    problem = value_problem(obj, what)
    if problem is not None:
        return problem
    module = getattr(type(obj), "__module__", None)
    if is_unsafe_module(module) and module != "builtins":
        return "%s refuses %s: its type %s.%s belongs to a module that runs processes or code" % (
            POLICY, what, module, type(obj).__qualname__)
    return None


def result_problem(value, what: str) -> str | None:
    """Why a result reached through a reference may not go back to the caller, or None: any item of it (in
    lists, tuples, sets and dict values) that ``value_problem`` refuses, since the caller would get a reference
    to it (``x.__reduce_ex__(2)`` holds ``copyreg.__newobj__``; a public method may return ``os.system``).
    Each container is looked at once (a cycle is the encoder's to refuse); the walk costs what encoding does."""
    stack, visited = [value], set()
    while stack:
        item = stack.pop()
        cls = type(item)
        if cls in _PLAIN:
            continue
        if cls in (list, tuple, set, frozenset, dict):
            if id(item) not in visited:
                visited.add(id(item))
                stack.extend(item.values() if cls is dict else item)
            continue
        problem = value_problem(item, "%s (in its result: %s)" % (what, _describe(item)))
        if problem is not None:
            return problem
    return None


_PLAIN = frozenset([str, bytes, int, float, bool, type(None), complex, bytearray])


def _describe(item) -> str:
    try:
        name = getattr(item, "__qualname__", None) or getattr(item, "__name__", None)
    except Exception:
        name = None
    return name if isinstance(name, str) else type(item).__name__
