"""The JSON codec: UTF-8 JSON text, with bytes carried raw as attachments after it (the 0x01 layout)."""

from __future__ import annotations

import json
import struct
import threading
from json.encoder import encode_basestring

from .arrow import arrow_tag
from .extended import extended_tag
from .framing import ProtocolError
from .natural import NO_FORM, natural
from .values import (DECODED_PROBLEMS, DECODED_REFS, TAG_KEY, Codec, TaggedValue, UndecodableValue, from_tag,
                     normalize_message)

__all__ = ["JsonCodec"]

_U32 = struct.Struct(">I")

try:
    from json.encoder import c_make_encoder
except ImportError:  # pragma: no cover - CPython always has the C encoder
    c_make_encoder = None

# Fast check for "an integer of 16+ digits" in JSON text, without walking the value: map digits to
# "d", "." to itself and every other byte to " ", then look for " " + 16 "d" (an integer token always
# follows "," ":" "[" or "-"; a float's fraction follows "."). False positives (digits inside strings,
# floats like 1e15 written positionally) only cost the slow path, which decides exactly.
_DIGIT_CLASSES = bytes(
    ord("d") if chr(i).isdigit() and i < 128 else (ord(".") if i == ord(".") else ord(" "))
    for i in range(256)
)
_LONG_INT = b" " + b"d" * 16
# The tag key as an object key in JSON text. Inside a string it would read `\"__snakepit__\":`, so every
# match is a key: one more than the tags we wrote means a user map has the key, and must be escaped.
_TAG_KEY_JSON = b'"' + TAG_KEY.encode() + b'":'


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
    """Per-encode state: the attachments collected by the ``default`` hook, and how many tags it wrote."""

    __slots__ = ("attachments", "tags")

    def __init__(self) -> None:
        self.attachments = []
        self.tags = 0

    def default(self, obj):
        if isinstance(obj, (bytes, bytearray, memoryview)):
            self.attachments.append(bytes(obj) if isinstance(obj, memoryview) else obj)
            self.tags += 1
            return {TAG_KEY: "bytes", "attachment": len(self.attachments) - 1}
        if isinstance(obj, TaggedValue):
            self.tags += 1
            return obj.tag()
        tag = extended_tag(obj) or arrow_tag(obj)  # datetime, numeric numpy arrays, pyarrow Tables
        if tag is not None:
            self.tags += 1
            return tag
        value = natural(obj)  # dates, decimals, sets, dataclasses, ... (natural.py)
        if value is not NO_FORM:
            return value
        raise TypeError("cannot encode a value of type %s" % type(obj).__name__)


def _untag(value, attachments):
    """Replace tags in a decoded JSON value, in place where possible (children first)."""
    if type(value) is dict:
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                value[key] = _untag(item, attachments)
        if TAG_KEY in value:
            return from_tag(value, attachments)
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

    def encode(self, msg: dict, on_bad=None) -> bytes:
        state = None
        if on_bad is None:
            encoder = self._encoder()
            state = self._local.state
            state.attachments = []
            state.tags = 0
            try:
                data = encoder(msg).encode("utf-8")
                if data.translate(_DIGIT_CLASSES).find(_LONG_INT) >= 0:
                    raise OverflowError("integer beyond 2**53")  # maybe: let the slow path decide
                if (state.tags or data.find(_TAG_KEY_JSON) >= 0) and data.count(_TAG_KEY_JSON) != state.tags:
                    raise ValueError("a map has the tag key")  # a user's: escape it (slow path)
            except (TypeError, ValueError, OverflowError, RecursionError, UnicodeEncodeError):
                state = None
        if state is None:
            state = _JsonState()
            prepared = normalize_message(msg, True, on_bad)
            # ensure_ascii: lone surrogates travel as \ud800 escapes, which the host reads back exactly
            data = json.dumps(prepared, ensure_ascii=True, separators=(",", ":"), default=state.default,
                              check_circular=False).encode("ascii")
        attachments, tagged = state.attachments, state.tags > 0
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
        except (ValueError, RecursionError, struct.error) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ProtocolError("undecodable JSON frame: %s" % exc) from None
        if not isinstance(msg, dict):
            raise ProtocolError("frame body is a %s, not an object" % type(msg).__name__)
        if attachments or msg.get("tagged"):
            try:
                msg = _untag(msg, attachments)
            except RecursionError:
                del DECODED_REFS[:]
                del DECODED_PROBLEMS[:]
                raise UndecodableValue(msg.get("type"), msg.get("id"), "value is nested too deeply") from None
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
