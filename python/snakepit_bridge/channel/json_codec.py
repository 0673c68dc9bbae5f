"""The JSON codec: UTF-8 JSON text, with bytes carried raw as attachments after it (the 0x01 layout)."""

from __future__ import annotations

import json
import math
import struct
import threading
from json.encoder import encode_basestring

from .extended import extended_tag
from .framing import ProtocolError
from .values import (MAX_DEPTH, ROOTS, TAG_KEY, Codec, SerializationError, TaggedValue, from_tag,
                     join_path, numpy_scalar, str_ok)

__all__ = ["JsonCodec"]

MAX_SAFE_INT = 2**53  # JSON numbers are doubles on the host: |n| >= 2**53 travels as a tag
_U32 = struct.Struct(">I")

try:
    from json.encoder import c_make_encoder
except ImportError:  # pragma: no cover - CPython always has the C encoder
    c_make_encoder = None
_JSON_KEYS = (str, int, float, bool, type(None))

# Fast check for "an integer of 16+ digits" in JSON text, without walking the value: map digits to
# "d", "." to itself and every other byte to " ", then look for " " + 16 "d" (an integer token always
# follows "," ":" "[" or "-"; a float's fraction follows "."). False positives (digits inside strings,
# floats like 1e15 written positionally) only cost the slow path, which decides exactly.
_DIGIT_CLASSES = bytes(
    ord("d") if chr(i).isdigit() and i < 128 else (ord(".") if i == ord(".") else ord(" "))
    for i in range(256)
)
_LONG_INT = b" " + b"d" * 16


def _make_encoder(default):
    """A reusable compact encoder: ``ensure_ascii=False``, no NaN, no circular check (a cycle ends in
    RecursionError, and the slow path names it). ``json.JSONEncoder.encode`` builds the C encoder on
    every call; building it once saves about 0.8 us a message."""
    if c_make_encoder is not None:
        try:
            encoder = c_make_encoder(None, default, encode_basestring, None, ":", ",", False, False, False)
            return lambda obj: "".join(encoder(obj, 0))
        except TypeError:  # a Python whose private constructor differs: use the public API
            pass
    return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=default,
                            check_circular=False).encode


class _JsonState:
    """Per-encode state: the attachments collected by the ``default`` hook."""

    __slots__ = ("attachments", "tagged")

    def __init__(self) -> None:
        self.attachments = []
        self.tagged = False

    def default(self, obj):
        if isinstance(obj, (bytes, bytearray, memoryview)):
            self.attachments.append(bytes(obj) if isinstance(obj, memoryview) else obj)
            return {TAG_KEY: "bytes", "attachment": len(self.attachments) - 1}
        if isinstance(obj, TaggedValue):
            self.tagged = True
            return obj.tag()
        item = numpy_scalar(obj)
        if item is not None:
            return item
        tag = extended_tag(obj)  # datetime, numpy arrays (extended.py)
        if tag is not None:
            self.tagged = True
            return tag
        raise TypeError("cannot encode a value of type %s" % type(obj).__name__)


def _json_prepare(value, path, state, depth, seen):
    """Slow path: return a JSON-ready copy of ``value`` with tags; raise SerializationError."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if -MAX_SAFE_INT < value < MAX_SAFE_INT:
            return value
        state.tagged = True
        return {TAG_KEY: "int", "value": str(int(value))}
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        state.tagged = True
        text = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        return {TAG_KEY: "float", "value": text}
    if isinstance(value, str):
        if not str_ok(value):
            raise SerializationError(path, "str", "string is not valid UTF-8")
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        state.tagged = True
        return state.default(value)
    if isinstance(value, TaggedValue):
        state.tagged = True
        return value.tag()
    if depth > MAX_DEPTH:
        raise SerializationError(path, type(value).__name__, "value is nested too deeply")
    if isinstance(value, (list, tuple, dict)):
        if id(value) in seen:
            raise SerializationError(path, type(value).__name__, "value contains a cycle")
        seen.add(id(value))
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if not isinstance(key, _JSON_KEYS):
                    raise SerializationError(
                        join_path(path, repr(key)), type(key).__name__, "map key cannot be encoded"
                    )
                out[key] = _json_prepare(item, join_path(path, key), state, depth + 1, seen)
        else:
            out = []
            for index, item in enumerate(value):
                out.append(_json_prepare(item, join_path(path, index), state, depth + 1, seen))
        seen.discard(id(value))
        return out
    item = numpy_scalar(value)
    if item is not None:
        return _json_prepare(item, path, state, depth, seen)
    tag = extended_tag(value)
    if tag is not None:
        state.tagged = True
        return _json_prepare(tag, path, state, depth, seen)
    raise SerializationError(path, type(value).__name__)


def _untag(value, attachments):
    """Replace tags in a decoded JSON value, in place where possible."""
    if type(value) is dict:
        if TAG_KEY in value:
            return from_tag(value, attachments)
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                value[key] = _untag(item, attachments)
    elif type(value) is list:
        for index, item in enumerate(value):
            if type(item) is dict or type(item) is list:
                value[index] = _untag(item, attachments)
    return value


class JsonCodec(Codec):
    """UTF-8 JSON; bytes travel as attachments after the JSON (the 0x01 layout)."""

    name = "json"

    def __init__(self) -> None:
        self._local = threading.local()  # one encoder per thread, its default hook bound to its state

    def _encoder(self):
        try:
            return self._local.encoder
        except AttributeError:
            state = _JsonState()
            self._local.encoder = encoder = _make_encoder(state.default)
            self._local.state = state
            return encoder

    def encode(self, msg: dict) -> bytes:
        encoder = self._encoder()
        state = self._local.state
        state.attachments = []
        state.tagged = False
        try:
            data = encoder(msg).encode("utf-8")
            if data.translate(_DIGIT_CLASSES).find(_LONG_INT) >= 0:
                raise OverflowError("integer beyond 2**53")  # maybe: let the slow path decide
        except (TypeError, ValueError, OverflowError, RecursionError, UnicodeEncodeError):
            state = _JsonState()
            mtype = msg.get("type")
            prepared = {}
            for key, value in msg.items():
                root = ROOTS.get((mtype, key), key)
                try:
                    prepared[key] = _json_prepare(value, root, state, 0, set())
                except RecursionError:
                    raise SerializationError(root, type(value).__name__, "value is nested too deeply") \
                        from None
            data = json.dumps(prepared, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        attachments, tagged = state.attachments, state.tagged
        if not attachments and not tagged:
            return data
        state.attachments = []  # do not keep the caller's bytes alive in the thread-local state
        if data[:1] == b"{" and data != b"{}":
            data = b'{"tagged":true,' + data[1:]
        if not attachments:
            return data
        parts = [b"\x01", _U32.pack(len(data)), data]
        for blob in attachments:
            parts.append(_U32.pack(len(blob)))
            parts.append(blob)
        return b"".join(parts)

    def decode(self, body: bytes) -> dict:
        attachments = ()
        try:
            lead = body[:1]
            if lead == b"\x01":
                (size,) = _U32.unpack_from(body, 1)
                if 5 + size > len(body):
                    raise ProtocolError("JSON part (%d bytes) overruns the frame" % size)
                msg = json.loads(body[5 : 5 + size].decode("utf-8"))
                attachments = _split_attachments(body, 5 + size)
            elif lead == b"{":
                msg = json.loads(body.decode("utf-8"))  # strict UTF-8, as msgpack's str
            else:
                raise ProtocolError("undecodable JSON frame: starts with %r" % body[:1])
        except (ValueError, struct.error) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ProtocolError("undecodable JSON frame: %s" % exc) from None
        if not isinstance(msg, dict):
            raise ProtocolError("frame body is a %s, not an object" % type(msg).__name__)
        if attachments or msg.get("tagged"):
            msg = _untag(msg, attachments)
        return msg


def _split_attachments(body: bytes, pos: int) -> list:
    out = []
    view = memoryview(body)
    while pos < len(body):
        (size,) = _U32.unpack_from(body, pos)
        pos += 4
        if pos + size > len(body):
            raise ProtocolError("attachment %d overruns the frame" % len(out))
        out.append(bytes(view[pos : pos + size]))
        pos += size
    return out
