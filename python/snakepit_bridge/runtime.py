"""Facts about the running worker (its id, pool, codec), for tools and telemetry that want them."""

from __future__ import annotations

__all__ = ["worker_info"]

_INFO = {}


def worker_info() -> dict:
    """Return ``{"worker_id", "pool", "run_id", "codec", "max_frame_bytes", "protocol"}``.

    Empty until the handshake has chosen a codec.
    """
    return dict(_INFO)


def _set(**fields) -> None:
    _INFO.update(fields)
