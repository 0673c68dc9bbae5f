"""Message codecs (PROTOCOL.md section 3): msgpack when importable, JSON with binary attachments always.

Both encoders keep the success path at C speed: msgpack's ``default=`` hook and ``json`` only call back
into Python for values with no native form (``natural.py`` converts those). Only when the fast encode
fails does the slow walk (values.py ``Walk``) make a copy the codec can carry, or name the bad value.
"""

from __future__ import annotations

import threading

from .extended import extended_tag
from .framing import ProtocolError
from .natural import NO_FORM, natural
from .arrow import arrow_tag, read_arrow
from .shm import SHARED, share_array
from .values import (DECODED_PROBLEMS, DECODED_REFS, TAG_KEY, TAG_READERS, Codec, RawTag, SerializationError,
                     TaggedValue, UndecodableValue, from_tag, hashable, int_tag, normalize_message)

try:  # msgpack is optional: JSON is always there.
    import msgpack
except ImportError:  # pragma: no cover - depends on the environment
    msgpack = None

__all__ = ["Codec", "SerializationError", "available_codecs", "make_codec", "TAG_KEY"]

TAG_EXT_TYPE = 83

# Tag kinds read outside values.py: large values in shared memory, Arrow tables (DATA.md).
TAG_READERS["shm"] = SHARED.read
TAG_READERS["arrow"] = read_arrow


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


def _ext(tag: dict):
    return msgpack.ExtType(TAG_EXT_TYPE, msgpack.packb(tag, use_bin_type=True, default=_msgpack_default))


def _msgpack_default(obj):
    # Called by msgpack only for what it cannot pack natively.
    if isinstance(obj, int) and not isinstance(obj, bool):  # beyond 64 bits
        return _ext(int_tag(obj).tag())
    if isinstance(obj, TaggedValue):
        return _ext(obj.tag())
    if SHARED.prefix is not None:  # a large numpy array goes to shared memory (shm.py)
        tag = share_array(obj)
        if tag is not None:
            return _ext(tag)
    tag = extended_tag(obj)  # datetime, numeric numpy arrays (extended.py)
    if tag is not None:
        return _ext(tag)
    tag = arrow_tag(obj)  # a pyarrow Table (arrow.py)
    if tag is not None:
        return _ext(tag)
    value = natural(obj)  # dates, decimals, sets, dataclasses, ... (natural.py)
    if value is not NO_FORM:
        return value
    raise TypeError("cannot encode a value of type %s" % type(obj).__name__)


def _share_result_bytes(msg: dict) -> dict:
    """``msg`` with a large ``bytes`` result (the whole value) in shared memory; other messages as they are."""
    value = msg.get("value")
    if type(value) is bytes and len(value) >= SHARED.min_bytes and msg.get("type") == "result":
        tag = SHARED.share(value)
        if tag is not None:
            msg = dict(msg)
            msg["value"] = RawTag(tag)
    return msg


def _msgpack_ext_hook(code: int, data: bytes):
    if code != TAG_EXT_TYPE:
        return msgpack.ExtType(code, data)
    tag = msgpack.unpackb(data, raw=False, strict_map_key=False, ext_hook=_msgpack_ext_hook,
                          unicode_errors="surrogatepass")
    if not isinstance(tag, dict):
        return tag
    return from_tag(tag, ())


def _pairs(pairs):
    """A map whose keys Python cannot use as they are (a JS Map keyed by arrays): lists become tuples."""
    out = {}
    for key, value in pairs:
        try:
            out[hashable(key)] = value
        except TypeError:
            from .values import BadValue

            bad = BadValue("a map key of type %s cannot be a Python dict key" % type(key).__name__)
            DECODED_PROBLEMS.append(bad)
            out[bad] = value
    return out


def read_header(body) -> tuple:
    """``(type, id)`` of a msgpack message whose values could not be decoded, or ``(None, None)``."""
    mtype = msg_id = None
    try:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, ext_hook=lambda code, data: None)
        unpacker.feed(body)
        for _ in range(unpacker.read_map_header()):
            key = unpacker.unpack()
            if key == "type":
                mtype = unpacker.unpack()
            elif key == "id":
                msg_id = unpacker.unpack()
            else:
                unpacker.skip()
    except Exception:  # the frame is not even a map of readable keys
        pass
    return (mtype, msg_id) if isinstance(mtype, str) else (None, None)


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

    def encode(self, msg: dict, on_bad=None) -> bytes:
        if SHARED.prefix is not None:  # shared memory is on: large values may go there (shm.py)
            return SHARED.encoding(self._encode, _share_result_bytes(msg), on_bad)
        return self._encode(msg, on_bad)

    def encode_inline(self, msg: dict) -> bytes:
        # Scalars only: no shared-memory bookkeeping (Codec.encode_inline), and _encode's fast path inlined.
        try:
            return self._local.packer.pack(msg)
        except Exception:  # no packer on this thread yet, or a value it cannot pack: _encode does the rest
            return self._encode(msg)

    def inline_encoder(self):
        # This thread's packer itself: no thread-local lookup per message. After a failed pack() msgpack has
        # reset its buffer, so the packer stays usable (the caller falls back to encode_inline for that message).
        return self._packer().pack

    def _encode(self, msg: dict, on_bad=None) -> bytes:
        if on_bad is None:
            try:
                return self._packer().pack(msg)
            except Exception:
                # pack() resets its buffer on error; start from a fresh packer anyway, then take the slow path.
                del self._local.packer
        return msgpack.packb(normalize_message(msg, False, on_bad), use_bin_type=True, default=_msgpack_default)

    def decode(self, body: bytes) -> dict:
        try:
            msg = msgpack.unpackb(body, raw=False, strict_map_key=False, ext_hook=_msgpack_ext_hook,
                                  unicode_errors="surrogatepass")
        except TypeError:  # a key Python cannot hash (a list): read the maps as pairs instead
            del DECODED_REFS[:]
            del DECODED_PROBLEMS[:]
            try:
                msg = msgpack.unpackb(body, raw=False, strict_map_key=False, ext_hook=_msgpack_ext_hook,
                                      unicode_errors="surrogatepass", object_pairs_hook=_pairs)
            except Exception as exc:
                raise self._undecodable(body, exc) from None
        except Exception as exc:
            raise self._undecodable(body, exc) from None
        if not isinstance(msg, dict):
            raise ProtocolError("frame body is a %s, not a map" % type(msg).__name__)
        return msg

    @staticmethod
    def _undecodable(body, exc) -> ProtocolError:
        del DECODED_REFS[:]
        del DECODED_PROBLEMS[:]
        mtype, msg_id = read_header(body)
        reason = "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
        if mtype is not None and msg_id is not None:
            return UndecodableValue(mtype, msg_id, reason)
        return ProtocolError("undecodable msgpack frame: %s" % reason)
