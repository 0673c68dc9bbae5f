"""The bridge's own tools for moving a session to another worker: ``__snakepit__.session_export`` and
``__snakepit__.session_import`` (docs/PROTOCOL.md section 5.2).

When the host recycles a worker on purpose, it moves each session the worker served to the replacement before
stopping it: it exports the session here (its ``ctx.store`` values and its object references, each pickled on its
own), and imports it there. What cannot be pickled (a lock, an open socket, a generator) — or unpickled on the
other side (a class the new worker cannot import) — stays behind and is listed, so the host can tell the caller
exactly what was lost. These are ordinary calls on the main thread, so user code that pickling runs
(``__reduce__``, ``__getstate__``) never races a tool.

A reference keeps its id on the new worker: its tag names the worker that made it, and the new worker files it
under ``<that worker>/<id>`` (refs.py), which is what the host then names in ``release``.
"""

from __future__ import annotations

from .. import runtime
from ..refs import REFS
from ..sessions import STATES

__all__ = ["session_export", "session_import", "session_problem"]


def _loss(kind: str, name: str, obj, exc: BaseException, worker=None) -> dict:
    cls = type(obj)
    loss = {"kind": kind, "name": name, "type": getattr(cls, "__qualname__", cls.__name__),
            "reason": "%s: %s" % (type(exc).__name__, exc)}
    if worker is not None:
        loss["worker"] = worker
    return loss


def _dumps(obj) -> bytes:
    import pickle  # only when a session moves: a worker starts without it (~3 ms of imports)

    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def session_export(session):
    """This worker's state of ``session``, pickled item by item, and the list of what would not pickle."""
    me = runtime.worker_info().get("worker_id") or ""
    values, refs, lost = [], [], []
    for key, value in STATES.items(session):
        try:
            values.append((_dumps(key), _dumps(value)))
        except Exception as exc:
            lost.append(_loss("value", repr(key), value, exc))
    for key, obj in REFS.items(session):
        origin, _, ref_id = key.rpartition("/")
        origin = origin or me  # a reference made here; an adopted one keeps the worker that made it
        try:
            refs.append(("%s/%s" % (origin, ref_id), _dumps(obj)))
        except Exception as exc:
            lost.append(_loss("ref", ref_id, obj, exc, origin))
    state = _dumps({"values": values, "refs": refs}) if values or refs else None
    return {"state": state, "values": len(values), "refs": len(refs), "lost": lost}


def session_import(session, state=None):
    """Take in a session exported from another worker; returns what could not be unpickled here."""
    moved_values = moved_refs = 0
    lost = []
    if state is None:
        return {"values": 0, "refs": 0, "lost": lost}
    import pickle  # see _dumps

    bundle = pickle.loads(state)  # made by session_export on a worker of the same pool
    for key_bytes, value_bytes in bundle["values"]:
        try:
            key = pickle.loads(key_bytes)
            STATES.store(session, key, pickle.loads(value_bytes))
            moved_values += 1
        except Exception as exc:
            lost.append({"kind": "value", "name": "?", "type": "?", "reason": "%s: %s" % (type(exc).__name__, exc)})
    for key, obj_bytes in bundle["refs"]:
        origin, _, ref_id = key.rpartition("/")
        try:
            REFS.adopt(key, pickle.loads(obj_bytes), session)
            moved_refs += 1
        except Exception as exc:
            lost.append({"kind": "ref", "name": ref_id, "type": "?", "worker": origin,
                         "reason": "%s: %s" % (type(exc).__name__, exc)})
    return {"values": moved_values, "refs": moved_refs, "lost": lost}


def session_problem(call):
    """What is wrong with the arguments of a session tool beyond its signature, or None."""
    args = call.args
    if not isinstance(args.get("session"), str) or not args["session"]:
        return "'session' must be a non-empty string"
    state = args.get("state")
    if state is not None and not isinstance(state, (bytes, bytearray)):
        return "'state' must be bytes (what session_export returned), got %s" % type(state).__name__
    return None
