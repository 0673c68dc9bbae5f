"""What both codecs share: tags, the Codec interface, and the slow walks that name a bad value's path.

The walks here run only after a fast encode failed (PROTOCOL.md section 3.1, "Unencodable values").
"""

from __future__ import annotations

import json
import sys

from .extended import EXTENDED_KINDS, read_extended
from .framing import ProtocolError

__all__ = ["Codec", "SerializationError", "TAG_KEY", "MAX_DEPTH", "locate", "find_container", "from_tag",
           "TaggedValue", "RefToken", "DECODED_REFS"]

TAG_KEY = "__snakepit__"
MAX_DEPTH = 256  # the slow walks give up below Python's recursion limit (about 2 frames per level)


class SerializationError(Exception):
    """A value cannot be encoded; ``path`` names the first bad value (``result.rows[2].when``)."""

    def __init__(self, path: str, python_type: str, reason: str = "") -> None:
        self.path = path
        self.python_type = python_type
        self.reason = reason or "cannot encode a value of type %s" % python_type
        super().__init__("%s at %s" % (self.reason, path or "<message>"))


class TaggedValue:
    """A Python value that both codecs send as a tag: ``tag()`` returns the map (``{TAG_KEY: kind, ...}``)."""

    __slots__ = ()

    def tag(self) -> dict:
        raise NotImplementedError


class RefToken(TaggedValue):
    """A ``ref`` tag as received, before it is checked and resolved (see ``refs.py``); sent on as it is."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict) -> None:
        self.fields = fields

    def tag(self) -> dict:
        return self.fields

    @property
    def id(self):
        return self.fields.get("id")

    def __repr__(self) -> str:
        return "RefToken(%r)" % (self.fields,)


# The RefTokens made while decoding the current message. Messages are decoded one at a time by one
# thread (the reader), which takes them right after each decode: a call then knows, without walking its
# arguments, whether they hold references.
DECODED_REFS = []


class Codec:
    """Encodes message dicts to frame bodies and back. Thread-safe."""

    name = ""

    def encode(self, msg: dict) -> bytes:
        """Return the body for ``msg``. Raises SerializationError naming the path of a bad value."""
        raise NotImplementedError

    def decode(self, body: bytes) -> dict:
        """Return the message in ``body``. Raises ProtocolError if it is not a valid message."""
        raise NotImplementedError


def numpy_scalar(obj):
    """Return ``obj.item()`` for a numpy scalar, else None. Never imports numpy itself."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, np.generic):
        return obj.item()
    return None


def join_path(path: str, key) -> str:
    """``rows`` + 2 -> ``rows[2]``; ``result`` + ``when`` -> ``result.when``; odd keys are quoted."""
    if isinstance(key, int):
        return "%s[%d]" % (path, key)
    if isinstance(key, str) and key.isidentifier():
        return "%s.%s" % (path, key) if path else key
    return "%s[%s]" % (path, json.dumps(key) if isinstance(key, str) else repr(key))


# Where the value of each message field sits, for error paths: a result's value is "result",
# a chunk's data is "chunk", host-call arguments are "args" (PROTOCOL.md section 3.1).
ROOTS = {("result", "value"): "result", ("chunk", "data"): "chunk"}


def locate(msg: dict, find) -> SerializationError:
    """Walk ``msg`` field by field with ``find`` and return the error for the first bad value."""
    mtype = msg.get("type")
    for field, value in msg.items():
        bad = find(value, ROOTS.get((mtype, field), field), 0, set())
        if bad is not None:
            return bad
    return SerializationError("", type(msg).__name__, "message could not be encoded")


def str_ok(s: str) -> bool:
    """True if ``s`` can be sent (UTF-8 has no encoding for lone surrogates)."""
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def find_container(value, path, depth, seen, find, key_types):
    """The shared part of a codec's ``find``: recurse into lists and maps (cycles, depth, map keys).

    Returns a SerializationError for the first bad value below ``value`` (or ``value`` itself when it
    is no container the codec knows), or None.
    """
    if depth > MAX_DEPTH:
        return SerializationError(path, type(value).__name__, "value is nested too deeply")
    if isinstance(value, (list, tuple, dict)):
        if id(value) in seen:
            return SerializationError(path, type(value).__name__, "value contains a cycle")
        seen.add(id(value))
        try:
            if isinstance(value, dict):
                for key, item in value.items():
                    if not isinstance(key, key_types):
                        return SerializationError(
                            join_path(path, repr(key)), type(key).__name__, "map key cannot be encoded"
                        )
                    bad = find(item, join_path(path, key), depth + 1, seen)
                    if bad is not None:
                        return bad
            else:
                for index, item in enumerate(value):
                    bad = find(item, join_path(path, index), depth + 1, seen)
                    if bad is not None:
                        return bad
        finally:
            seen.discard(id(value))
        return None
    item = numpy_scalar(value)
    if item is not None or isinstance(value, TaggedValue):
        return None
    return SerializationError(path, type(value).__name__)


def from_tag(tag: dict, attachments):
    """The Python value of a received tag (``attachments``: the JSON frame's; empty for msgpack)."""
    kind = tag.get(TAG_KEY)
    if kind in EXTENDED_KINDS:  # datetime, ndarray (extended.py)
        try:
            return read_extended(kind, tag, attachments)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ProtocolError("malformed %r tag (%s)" % (kind, exc)) from None
    try:
        if kind == "int":
            return int(tag["value"])
        if kind == "float":
            return float(tag["value"])
        if kind == "bytes":
            return attachments[tag["attachment"]]
        if kind == "ref":  # checked when resolved: a bad one refuses its call, not the channel
            token = RefToken(tag)
            DECODED_REFS.append(token)
            return token
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ProtocolError("malformed %r tag: %r (%s)" % (kind, tag, exc)) from None
    return tag  # a kind we do not know: left as it is (PROTOCOL.md section 3.1)


