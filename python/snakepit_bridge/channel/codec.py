"""Message codecs (PROTOCOL.md section 3): msgpack when importable, JSON with binary attachments always.

Both encoders keep the success path at C speed: msgpack's ``default=`` hook and ``json`` only call back
into Python for values with no native form. Only when the fast encode fails do we walk the value to
convert tags (JSON) or to name the path of the first bad value (values.py).
"""

from __future__ import annotations

import threading

from .extended import extended_tag, has_extended_form
from .framing import ProtocolError
from .values import (TAG_KEY, Codec, SerializationError, TaggedValue, find_container, from_tag, locate,
                     numpy_scalar, str_ok)

try:  # msgpack is optional: JSON is always there.
    import msgpack
except ImportError:  # pragma: no cover - depends on the environment
    msgpack = None

__all__ = ["Codec", "SerializationError", "available_codecs", "make_codec", "TAG_KEY"]

TAG_EXT_TYPE = 83


def available_codecs() -> list:
    """Codecs this interpreter can speak, preferred first."""
    return ["msgpack", "json"] if msgpack is not None else ["json"]


def make_codec(name: str) -> Codec:
    """Return the codec called ``name`` ("msgpack" or "json")."""
    if name == "json":
        from .json_codec import JsonCodec

        return JsonCodec()
    if name == "msgpack":
        if msgpack is None:
            raise ValueError("the msgpack codec needs the 'msgpack' package, which is not importable")
        return MsgpackCodec()
    raise ValueError("unknown codec %r (expected 'msgpack' or 'json')" % (name,))


# ---------------------------------------------------------------------------------------- msgpack


def _msgpack_default(obj):
    # Called by msgpack only for what it cannot pack natively.
    if isinstance(obj, int) and not isinstance(obj, bool):  # beyond 64 bits
        return msgpack.ExtType(TAG_EXT_TYPE, msgpack.packb({TAG_KEY: "int", "value": str(obj)}))
    if isinstance(obj, TaggedValue):
        return msgpack.ExtType(TAG_EXT_TYPE, msgpack.packb(obj.tag(), use_bin_type=True))
    item = numpy_scalar(obj)
    if item is not None:
        return item
    tag = extended_tag(obj)  # datetime, numpy arrays (extended.py)
    if tag is not None:
        return msgpack.ExtType(TAG_EXT_TYPE, msgpack.packb(tag, use_bin_type=True))
    raise TypeError("cannot encode a value of type %s" % type(obj).__name__)


def _msgpack_ext_hook(code: int, data: bytes):
    if code != TAG_EXT_TYPE:
        return msgpack.ExtType(code, data)
    tag = msgpack.unpackb(data, raw=False, strict_map_key=False, ext_hook=_msgpack_ext_hook)
    return from_tag(tag, ())


def _msgpack_find(value, path, depth, seen):
    """Return a SerializationError for the first value msgpack cannot pack, or None."""
    if value is None or isinstance(value, (bool, int, float, bytes, bytearray, memoryview)):
        return None
    if isinstance(value, str):
        return None if str_ok(value) else SerializationError(path, "str", "string is not valid UTF-8")
    if msgpack is not None and isinstance(value, msgpack.ExtType):
        return None
    if has_extended_form(value):
        return None
    return find_container(value, path, depth, seen, _msgpack_find, _MSGPACK_KEYS)


_MSGPACK_KEYS = (str, int, float, bool, type(None), bytes)


class MsgpackCodec(Codec):
    """MessagePack with ``use_bin_type``; tags are maps wrapped in extension type 83."""

    name = "msgpack"

    def __init__(self) -> None:
        self._local = threading.local()  # msgpack.Packer is not thread-safe; one per thread

    def _packer(self):
        try:
            return self._local.packer
        except AttributeError:
            packer = self._local.packer = msgpack.Packer(use_bin_type=True, default=_msgpack_default)
            return packer

    def encode(self, msg: dict) -> bytes:
        try:
            return self._packer().pack(msg)
        except Exception:
            # pack() resets its buffer on error; start from a fresh packer anyway, then find the path.
            del self._local.packer
            raise locate(msg, _msgpack_find) from None

    def decode(self, body: bytes) -> dict:
        try:
            msg = msgpack.unpackb(body, raw=False, strict_map_key=False, ext_hook=_msgpack_ext_hook)
        except Exception as exc:
            raise ProtocolError("undecodable msgpack frame: %s" % exc) from None
        if not isinstance(msg, dict):
            raise ProtocolError("frame body is a %s, not a map" % type(msg).__name__)
        return msg
