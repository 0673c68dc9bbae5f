"""Probes for ``snakepit doctor``: each runs in its own short-lived process and prints one JSON object.

    python .../snakepit_bridge/probe.py env            the interpreter, its environment, pip, msgpack
    python .../snakepit_bridge/probe.py import MODULE  import MODULE, timed; the version of its distribution

The host runs this file by path, so a probe works even when the ``snakepit_bridge`` package itself cannot be
imported (which is one of the things doctor checks: ``probe.py import snakepit_bridge``). Standard library only,
no imports from the package. Whatever a probed module prints goes to stderr, so stdout carries only the JSON.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time

__all__ = ["probe_env", "probe_import"]


def _distribution_version(module_name: str):
    try:
        from importlib import metadata
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    top = module_name.split(".")[0]
    try:
        names = metadata.packages_distributions().get(top) or [top]  # Python >= 3.10
    except AttributeError:
        names = [top]
    for name in names:
        try:
            return metadata.version(name)
        except Exception:
            continue
    return getattr(sys.modules.get(top), "__version__", None)


def probe_import(module_name: str) -> dict:
    """Import ``module_name`` and report ``{ok, ms, version}`` or ``{ok: false, ms, error}``."""
    started = time.perf_counter()
    try:
        importlib.import_module(module_name)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from a module's import count too
        return {
            "ok": False,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "error": {
                "type": type(exc).__name__,
                "message": str(exc),
                "missing_module": getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
            },
        }
    return {
        "ok": True,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "version": _distribution_version(module_name),
    }


def probe_env() -> dict:
    """The interpreter: version, paths, whether it is a virtual environment, pip, and msgpack."""
    in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    try:
        import pip  # noqa: F401

        pip_version = getattr(pip, "__version__", "")
    except ImportError:
        pip_version = None
    try:
        import msgpack

        msgpack_version = ".".join(str(p) for p in getattr(msgpack, "version", ()))
    except ImportError:
        msgpack_version = None
    stdlib = os.path.dirname(os.__file__)
    return {
        "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "in_venv": in_venv,
        "virtual_env": sys.prefix if in_venv else None,
        "externally_managed": os.path.exists(os.path.join(stdlib, "EXTERNALLY-MANAGED")) and not in_venv,
        "pip": pip_version,
        "msgpack": msgpack_version,
        "gil_disabled": bool(getattr(sys, "_is_gil_enabled", lambda: True)() is False),
        "free_threaded": _free_threaded_build(),
    }


def _free_threaded_build() -> bool:
    # The same test as snakepit_bridge.runtime.free_threaded_build (this file imports nothing of the package).
    if "t" in getattr(sys, "abiflags", ""):
        return True
    if not hasattr(sys, "_is_gil_enabled"):
        return False
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def main(argv=None) -> int:
    """Run one probe; exit 0 when it ran (the JSON says whether the thing probed is fine), 2 on bad usage."""
    args = sys.argv[1:] if argv is None else argv
    out, sys.stdout = sys.stdout, sys.stderr
    try:
        if args == ["env"]:
            result = probe_env()
        elif len(args) == 2 and args[0] == "import":
            result = probe_import(args[1])
        else:
            sys.stderr.write("usage: python -m snakepit_bridge.probe env | import MODULE\n")
            return 2
    finally:
        sys.stdout = out
    json.dump(result, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    # Run by path, Python put this file's folder first on sys.path; drop it so that the package's modules
    # (errors.py, stream.py, ...) cannot shadow a probed library's imports.
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    sys.exit(main())
