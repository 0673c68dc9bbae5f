"""What both codecs share: tags, the Codec interface, and the slow walk that runs when a fast encode failed.

Encoding is two-speed (PROTOCOL.md section 3.1). The fast path is the codec's own C encoder with a
``default`` hook for objects it does not know. When that fails, :class:`Walk` makes a copy the codecs
can always carry: strings that are not UTF-8 become ``str`` tags, maps whose keys have no plain form
(tuples, bytes, datetimes, or the tag key itself in JSON) become ``map`` tags, integers beyond the
codec's range become ``int`` tags, and what has no form at all is reported with its path (or, by
choice, replaced by an object reference or a marker).

Decoding never raises for a bad *value*: a malformed tag, or a map key Python cannot hash, becomes a
:class:`BadValue` listed in ``DECODED_PROBLEMS``, so only the call that carries it fails.
"""

from __future__ import annotations

import json
import math

from .extended import EXTENDED_KINDS, extended_tag, read_extended
from .framing import ProtocolError
from .natural import NO_FORM, natural, type_name

__all__ = ["Codec", "SerializationError", "TAG_KEY", "MAX_DEPTH", "Walk", "normalize_message", "from_tag",
           "TaggedValue", "RawTag", "RefToken", "BadValue", "DECODED_REFS", "DECODED_PROBLEMS",
           "UndecodableValue", "TAG_READERS", "int_tag", "marker", "hashable", "find_bad", "join_path", "str_ok", "ROOTS"]

TAG_KEY = "__snakepit__"
MAX_DEPTH = 256  # the slow walks give up below Python's recursion limit (about 2 frames per level)
MARKER_REPR_CHARS = 200


class SerializationError(Exception):
    """A value cannot be encoded; ``path`` names the first bad value (``result.rows[2].when``)."""

    def __init__(self, path: str, python_type: str, reason: str = "") -> None:
        self.path = path
        self.python_type = python_type
        self.reason = reason or "cannot encode a value of type %s" % python_type
        super().__init__("%s at %s" % (self.reason, path or "<message>"))


class UndecodableValue(ProtocolError):
    """A frame whose header (``type``, ``id``) was read but whose values could not be decoded.

    The channel is intact: the reader fails only the message's own call."""

    def __init__(self, mtype, msg_id, reason: str) -> None:
        self.mtype = mtype
        self.msg_id = msg_id
        self.reason = reason
        super().__init__("undecodable %s frame (id %r): %s" % (mtype, msg_id, reason))


class TaggedValue:
    """A Python value that both codecs send as a tag: ``tag()`` returns the map (``{TAG_KEY: kind, ...}``)."""

    __slots__ = ()

    def tag(self) -> dict:
        raise NotImplementedError


class RawTag(TaggedValue):
    """A tag built by the codecs themselves (``int``, ``str``, ``map``, ``datetime``, ...)."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict) -> None:
        self.fields = fields

    def tag(self) -> dict:
        return self.fields


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


class BadValue:
    """Stands in for a received value that could not be decoded; the call carrying it is refused."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return "BadValue(%r)" % (self.reason,)


# Readers of the tag kinds defined outside this module (``shm``, ``arrow``), by kind. A reader raises
# ValueError/TypeError/KeyError for a bad tag: the value becomes a BadValue and only its call fails.
TAG_READERS = {}

# The RefTokens and BadValues made while decoding the current message. Messages are decoded one at a time
# by one thread (the reader), which takes them right after each decode: a call then knows, without walking
# its arguments, whether they hold references or values it cannot use.
DECODED_REFS = []
DECODED_PROBLEMS = []


class Codec:
    """Encodes message dicts to frame bodies and back. Thread-safe."""

    name = ""

    def encode(self, msg: dict, on_bad=None) -> bytes:
        """Return the body for ``msg``.

        Args:
            on_bad: ``on_bad(value, path)`` gives the replacement of a value that has no form (a reference, a
                marker); by default such a value raises.

        Raises:
            SerializationError naming the path of a value that has no form.
        """
        raise NotImplementedError

    def encode_inline(self, msg: dict) -> bytes:
        """``encode(msg)`` for a message whose values are all scalars (no bytes, no arrays): nothing of it
        can go to shared memory, so a codec may skip what that costs (a result per call takes this path)."""
        return self.encode(msg)

    def inline_encoder(self):
        """``encode_inline`` for the calling thread only, as one callable to bind once (the worker's main loop
        answers most calls through it). It may raise for a message ``encode_inline`` would still encode (the
        caller then takes that path)."""
        return self.encode_inline

    def decode(self, body: bytes) -> dict:
        """Return the message in ``body``. Raises ProtocolError if it is not a valid message
        (UndecodableValue when only its values are at fault)."""
        raise NotImplementedError


def join_path(path: str, key) -> str:
    """``rows`` + 2 -> ``rows[2]``; ``result`` + ``when`` -> ``result.when``; other keys by their text,
    quoted: ``result["(1, 2)"]``."""
    if type(key) is int and -(10**18) < key < 10**18:
        return "%s[%d]" % (path, key)
    if isinstance(key, str) and key.isidentifier():
        return "%s.%s" % (path, key) if path else key
    try:
        text = key if isinstance(key, str) else hex(key) if isinstance(key, int) else str(key)
    except Exception:  # a key whose __str__ fails
        text = "<%s>" % type(key).__name__
    return "%s[%s]" % (path, json.dumps(text))


# Where the value of each message field sits, for error paths: a result's value is "result",
# a chunk's data is "chunk", host-call arguments are "args" (PROTOCOL.md section 3.1).
ROOTS = {("result", "value"): "result", ("chunk", "data"): "chunk"}


def str_ok(s: str) -> bool:
    """True if ``s`` can be sent as UTF-8 (it has no lone surrogates)."""
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def int_tag(n: int) -> RawTag:
    """The ``int`` tag of an integer beyond the codec's range: hexadecimal text, which (unlike decimal)
    has no length limit in Python and converts in linear time."""
    return RawTag({TAG_KEY: "int", "value": hex(n)})


def marker(obj, with_repr: bool = False) -> dict:
    """The graceful-mode stand-in for a value with no form (the marker of Snakepit's Python bridge)."""
    out = {"__ffi_unserializable__": True, "__type__": type_name(obj)}
    if with_repr:
        try:
            text = repr(obj)
        except Exception as exc:  # a repr that fails is no reason to fail the result
            text = "<repr failed: %s>" % type(exc).__name__
        out["__repr__"] = text if str_ok(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")
        out["__repr__"] = out["__repr__"][:MARKER_REPR_CHARS]
    return out


# ---------------------------------------------------------------------------------------- encoding

_MSGPACK_INTS = (-(2**63), 2**64)  # msgpack carries int64 and uint64
_JSON_INTS = (-(2**53), 2**53 + 1)  # the host reads JSON numbers as doubles: exact up to ±2**53


class Walk:
    """The slow path: a copy of a value that the codec carries as it is (see the module docstring).

    Args:
        json: for the JSON codec (smaller integer range, non-finite floats and the tag key escaped).
        on_bad: ``on_bad(value, path)`` replaces a value with no form; None raises SerializationError.
    """

    __slots__ = ("json", "on_bad", "seen", "ints")

    def __init__(self, json: bool, on_bad=None) -> None:
        self.json = json
        self.on_bad = on_bad
        self.seen = set()
        self.ints = _JSON_INTS if json else _MSGPACK_INTS

    def value(self, v, path: str, depth: int = 0):
        if v is None or v is True or v is False:
            return v
        if isinstance(v, str):
            if self.json or str_ok(v):  # JSON text escapes lone surrogates (ensure_ascii)
                return str(v)
            return RawTag({TAG_KEY: "str", "utf16": v.encode("utf-16-le", "surrogatepass")})
        if isinstance(v, int) and not isinstance(v, bool):
            n = int(v)
            lo, hi = self.ints
            return n if lo <= n < hi else int_tag(n)
        if isinstance(v, bool):
            return bool(v)
        if isinstance(v, float):
            f = float(v)
            if self.json and not math.isfinite(f):
                return RawTag({TAG_KEY: "float", "value": "NaN" if f != f else ("Infinity" if f > 0 else "-Infinity")})
            return f
        if isinstance(v, (bytes, bytearray)):
            return v
        if isinstance(v, memoryview):
            return v.tobytes()
        if isinstance(v, TaggedValue):
            return v
        if depth > MAX_DEPTH:
            raise SerializationError(path, type(v).__name__, "value is nested too deeply")
        if isinstance(v, (list, tuple)) and not hasattr(v, "_asdict"):
            self._enter(v, path)
            try:
                return [self.value(item, join_path(path, i), depth + 1) for i, item in enumerate(v)]
            finally:
                self.seen.discard(id(v))
        if isinstance(v, dict):
            self._enter(v, path)
            try:
                return self._mapping(v, path, depth)
            finally:
                self.seen.discard(id(v))
        tag = extended_tag(v)  # datetime, numeric numpy arrays
        if tag is not None:
            return RawTag(tag)
        try:
            converted = natural(v)
        except Exception as exc:  # a conversion method of the object's own failed
            return self._bad(v, path, "converting a %s failed: %s: %s" % (type_name(v), type(exc).__name__, exc))
        if converted is NO_FORM:
            return self._bad(v, path)
        self._enter(v, path)
        try:
            return self.value(converted, path, depth + 1)
        finally:
            self.seen.discard(id(v))

    def _enter(self, v, path: str) -> None:
        if id(v) in self.seen:
            raise SerializationError(path, type(v).__name__, "value contains a cycle")
        self.seen.add(id(v))

    def _bad(self, v, path: str, reason: str = ""):
        if self.on_bad is None:
            raise SerializationError(path, type(v).__name__, reason)
        return self.on_bad(v, path)

    def _mapping(self, d: dict, path: str, depth: int):
        entries, plain = [], True
        for key, item in d.items():
            wire_key, key_plain = self._key(key, path, depth)
            plain = plain and key_plain
            entries.append((wire_key, self.value(item, join_path(path, key), depth + 1)))
        if plain:
            return dict(entries)
        return RawTag({TAG_KEY: "map", "entries": [[k, v] for k, v in entries]})

    def _key(self, key, path: str, depth: int):
        """The key as sent, and whether a plain map can carry it (else the map becomes a ``map`` tag)."""
        if isinstance(key, str):
            if self.json:
                return str(key), key != TAG_KEY  # a user key that is the tag key is escaped
            return (str(key), True) if str_ok(key) else (self.value(key, path, depth), False)
        if key is None:
            return None, True
        if isinstance(key, bool):
            return bool(key), True
        if isinstance(key, float):
            return float(key), True
        wire = self.value(key, join_path(path, key), depth + 1)
        if wire is None or isinstance(wire, (bool, int, float)):
            return wire, True  # an int in the codec's range (beyond it, value() gave a tag)
        if isinstance(wire, str):
            return wire, not self.json or wire != TAG_KEY
        return wire, False


def normalize_message(msg: dict, json: bool, on_bad=None) -> dict:
    """``msg`` with every field passed through :class:`Walk` (its error paths rooted as in ROOTS)."""
    walk = Walk(json, on_bad)
    mtype = msg.get("type")
    out = {}
    for field, value in msg.items():
        root = ROOTS.get((mtype, field), field)
        try:
            out[field] = walk.value(value, root)
        except RecursionError:
            raise SerializationError(root, type(value).__name__, "value is nested too deeply") from None
    return out


# ---------------------------------------------------------------------------------------- decoding


def _problem(reason: str) -> BadValue:
    bad = BadValue(reason)
    DECODED_PROBLEMS.append(bad)
    return bad


def hashable(value):
    """A received value as a dict key or set item: lists become tuples, sets frozensets.

    Raises:
        TypeError: the value cannot be hashed (a map).
    """
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    if isinstance(value, set):
        return frozenset(value)
    hash(value)
    return value


def _read_int(text) -> int:
    if not isinstance(text, str):
        raise TypeError("value must be text")
    body = text[1:] if text[:1] == "-" else text
    if body[:2] in ("0x", "0X"):
        return int(text, 16)
    return int(text)


def from_tag(tag: dict, attachments):
    """The Python value of a received tag (``attachments``: the JSON frame's; empty for msgpack).

    A malformed tag of a known kind becomes a :class:`BadValue` (the call carrying it is refused)."""
    kind = tag.get(TAG_KEY)
    try:
        if kind in EXTENDED_KINDS:  # datetime, ndarray (extended.py)
            return read_extended(kind, tag, attachments)
        if kind == "int":
            return _read_int(tag["value"])
        if kind == "float":
            return float(tag["value"])
        if kind == "bytes":
            return attachments[tag["attachment"]]
        if kind == "str":
            return bytes(tag["utf16"]).decode("utf-16-le", "surrogatepass")
        if kind == "map":
            return {hashable(k): v for k, v in tag["entries"]}
        if kind == "set":
            return {hashable(v) for v in tag["items"]}
        reader = TAG_READERS.get(kind)  # shm, arrow: registered by codec.py (shm.py, arrow.py)
        if reader is not None:
            return reader(tag)
        if kind == "ref":  # checked when resolved: a bad one refuses its call, not the channel
            token = RefToken(tag)
            DECODED_REFS.append(token)
            return token
    except (KeyError, IndexError, TypeError, ValueError, OverflowError, UnicodeDecodeError) as exc:
        return _problem("malformed %r tag (%s: %s)" % (kind, type(exc).__name__, exc))
    return tag  # a kind we do not know: left as it is (PROTOCOL.md section 3.1)


def find_bad(value, path: str, depth: int = 0):
    """The path and reason of the first BadValue in a decoded value, or None."""
    if isinstance(value, BadValue):
        return path, value.reason
    if depth > MAX_DEPTH:
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, BadValue):
                return join_path(path, "<key>"), key.reason
            found = find_bad(item, join_path(path, key), depth + 1)
            if found:
                return found
    elif isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            found = find_bad(item, join_path(path, index), depth + 1)
            if found:
                return found
    return None
