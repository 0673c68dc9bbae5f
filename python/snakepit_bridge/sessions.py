"""Per-session state in the worker: the object store behind ``SessionContext.store/retrieve/delete``.

A session's state lives in the worker that served it (the host keeps the session there: affinity). It is
dropped when the host ends the session (``session_end``: deleted or expired), together with the session's
object references (refs.py); the adapter's ``on_session_end(session_id)`` hook runs then, if it has one.
"""

from __future__ import annotations

import threading

__all__ = ["SessionStates", "STATES", "end_session"]


class SessionStates:
    """``{session id: {key: value}}`` with a lock (tools of one session may run on several threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states = {}

    def store(self, session: str, key, value) -> None:
        with self._lock:
            self._states.setdefault(session, {})[key] = value

    def retrieve(self, session: str, key, default=None):
        state = self._states.get(session)
        if state is None:
            return default
        return state.get(key, default)

    def delete(self, session: str, key) -> bool:
        with self._lock:
            state = self._states.get(session)
            if state is None or key not in state:
                return False
            del state[key]
            if not state:
                del self._states[session]
            return True

    def items(self, session: str) -> list:
        """``(key, value)`` pairs of ``session`` (a snapshot)."""
        with self._lock:
            state = self._states.get(session)
            return list(state.items()) if state else []

    def keys(self, session: str) -> list:
        state = self._states.get(session)
        return list(state) if state else []

    def drop(self, session: str) -> int:
        """Forget every key of ``session``; returns how many there were."""
        with self._lock:
            state = self._states.pop(session, None)
        return len(state) if state else 0

    def sessions(self) -> list:
        """The sessions that hold any state."""
        with self._lock:
            return list(self._states)


STATES = SessionStates()  # one per worker process


def end_session(session: str, adapter=None) -> dict:
    """Drop all state of ``session`` in this worker: its stored values and its references.

    Runs ``adapter.on_session_end(session)`` first when the adapter defines it (errors there are
    reported on stderr, never raised: the state is dropped either way).

    Returns:
        ``{"values": n, "refs": m}``: what was dropped.
    """
    from .refs import REFS  # refs imports session_context; keep this module import-light

    hook = getattr(adapter, "on_session_end", None) if adapter is not None else None
    if hook is not None:
        try:
            hook(session)
        except Exception:
            import sys
            import traceback

            sys.stderr.write("snakepit_bridge: on_session_end(%r) failed:\n%s"
                             % (session, traceback.format_exc()))
    return {"values": STATES.drop(session), "refs": REFS.drop_session(session)}
