"""C library functions taking and returning C ints (``prctl``, ``malloc_trim``), called without ``ctypes``.

A worker arms the parent-death signal (``prctl``, lifeline.py) before anything else runs, and trims its heap
(``malloc_trim``, memory.py) before ``ready``. ``import ctypes`` executes ctypes/__init__.py, which defines
every C type and helper: about 3 ms of CPU in every cold worker's start, on the way to its first answer, for
two calls. Both need only ``_ctypes``, the C module under ctypes: a function-pointer class whose result is a C
int, bound by name in the process's own symbols (``dlopen(NULL)``, which is what ``ctypes.CDLL(None)``
opens). The arguments are Python ints, passed as C ints, as ``ctypes.CDLL`` passes them.

If ``_ctypes`` is not usable that way (another Python implementation), ``ctypes`` itself does it.
"""
from __future__ import annotations

__all__ = ["libc_function"]

_BOUND: dict = {}


def libc_function(name: str):
    """The C function ``name`` of this process (the C library's, on Linux) returning a C int, or None where it
    does not exist (``malloc_trim`` on musl) or cannot be bound."""
    try:
        return _BOUND[name]
    except KeyError:
        pass
    try:
        function = _bind(name)
    except AttributeError:  # no such symbol
        function = None
    except Exception:
        try:
            import ctypes

            function = getattr(ctypes.CDLL(None, use_errno=True), name, None)
        except Exception:
            function = None
    _BOUND[name] = function
    return function


_FUNCTION = None
_PROCESS = None


def _bind(name: str):
    """Bind ``name`` with ``_ctypes`` alone. Raises AttributeError when the symbol does not exist."""
    global _FUNCTION, _PROCESS
    if _FUNCTION is None:
        import _ctypes

        class CInt(_ctypes._SimpleCData):  # what ctypes.c_int is: a result converted to a Python int
            _type_ = "i"

        class Function(_ctypes.CFuncPtr):  # what a ctypes.CDLL(..., use_errno=True) function is
            _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
            _restype_ = CInt

        class Process:  # what the function pointer reads from a library: its dlopen handle
            _handle = _ctypes.dlopen(None)

        _FUNCTION, _PROCESS = Function, Process
    return _FUNCTION((name, _PROCESS))
