"""Facts about the running worker (its id, pool, codec, profile) and its interpreter, for tools and telemetry."""

from __future__ import annotations

import sys

__all__ = ["worker_info", "free_threaded_build", "gil_enabled"]

_INFO = {}


def worker_info() -> dict:
    """Return ``{"worker_id", "pool", "run_id", "codec", "max_frame_bytes", "protocol", "profile", "threads"}``.

    Empty until the handshake has chosen a codec, so also while the adapter's module is imported: read it in
    ``initialize()`` or a tool. ``profile`` is ``"process"`` or ``"thread"``; ``threads`` is the
    thread profile's pool size (None for ``"process"``).
    """
    return dict(_INFO)


def free_threaded_build() -> bool:
    """Whether this interpreter is a free-threaded build (PEP 703: 3.13t and later), with or without its GIL."""
    if "t" in getattr(sys, "abiflags", ""):
        return True
    if not hasattr(sys, "_is_gil_enabled"):  # before 3.13 there is no such build
        return False
    import sysconfig  # only on 3.13+, where the answer may be yes (Windows has no abiflags)

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """Whether the GIL is on now: False only on a free-threaded build running without it (PYTHON_GIL=0, or no
    extension module asked for it)."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def _set(**fields) -> None:
    _INFO.update(fields)
