"""Snakepit's value conventions on BridgeService (PROTOCOL.md §9.2), which the .proto does not show:

- a parameter is an ``Any`` whose ``value`` is the JSON text of the value (type_url
  ``type.googleapis.com/google.protobuf.StringValue``); a lenient reader also takes a real packed StringValue;
- a result is an ``Any`` with type_url ``type.googleapis.com/snakepit.<tag>`` (map, list, string, float,
  boolean; every number is ``float``) and JSON text as value; bytes go in ``binary_result``;
- a failed tool is ``success=false`` with ``error_message`` = JSON ``{type, message, stacktrace, traceback,
  context}``; a failing stream ends with status INTERNAL and that JSON as details;
- a chunk's ``data`` is JSON text, except bytes (raw) and str (UTF-8); ``chunk_id`` is ``<tool>-<n>`` from 1.

snakepit adds ``context.kind`` (and ``context.details``) to the error JSON, so a snakepit host rebuilds the same
error (UnknownToolError, InvalidArgumentsError, …); and ``metadata.encoding`` (json | raw | utf8) to chunks.
"""

from __future__ import annotations

import base64
import datetime
import json

__all__ = ["STRING_VALUE_URL", "to_json", "decode_any", "encode_any", "result_any", "error_json",
           "chunk_data", "parameter_anys", "decode_parameters"]

STRING_VALUE_URL = "type.googleapis.com/google.protobuf.StringValue"
RESULT_URL = "type.googleapis.com/snakepit.%s"


def _default(obj):
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(obj)).decode("ascii")
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return obj.isoformat()
    tolist = getattr(obj, "tolist", None)  # numpy arrays and scalars
    if tolist is not None:
        return tolist()
    tag = getattr(obj, "tag", None)  # tags the codec kept (references)
    if callable(tag):
        return tag()
    raise TypeError("a %s has no JSON form" % type(obj).__name__)


def to_json(value) -> bytes:
    """JSON text of ``value`` (bytes nested inside become base64 text, datetimes ISO text)."""
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _unpack_string_value(raw: bytes):
    """The string of a serialized google.protobuf.StringValue (field 1), or None."""
    if not raw or raw[0] != 0x0A:
        return None
    length, shift, i = 0, 0, 1
    while i < len(raw):
        b = raw[i]
        length |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            break
        shift += 7
    if i + length != len(raw):
        return None
    try:
        return raw[i:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode_any(any_msg):
    """The value in an ``Any``: JSON text whatever the type_url; a packed StringValue is accepted too."""
    raw = bytes(any_msg.value)
    if not raw and not any_msg.type_url:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        pass
    text = _unpack_string_value(raw)
    if text is not None:
        try:
            return json.loads(text)
        except ValueError:
            return text
    raise ValueError("an Any parameter that is neither JSON text nor a StringValue (type_url %r)"
                     % any_msg.type_url)


def encode_any(any_msg, value, type_url: str = STRING_VALUE_URL) -> None:
    any_msg.type_url = type_url
    any_msg.value = to_json(value)


def result_tag(value) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "float"
    return "string"


def result_any(response, value) -> None:
    """Put a tool's result into an ExecuteToolResponse: bytes in binary_result, None as no result, the rest
    as JSON under the ``snakepit.<tag>`` type_url."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        response.binary_result = bytes(value)
    elif value is not None:
        encode_any(response.result, value, RESULT_URL % result_tag(value))


def error_json(info: dict) -> str:
    """Snakepit's error JSON for an ErrorInfo (plus ``context.kind``/``details`` for snakepit hosts)."""
    traceback = info.get("traceback") or ""
    return json.dumps({
        "type": info.get("type") or "Error",
        "message": info.get("message") or "",
        "stacktrace": traceback,
        "traceback": traceback,
        "context": {"kind": info.get("kind") or "python", "module": info.get("module") or "",
                    "mro": info.get("mro") or [], "details": info.get("details") or {}},
    }, default=_default)


def chunk_data(data):
    """``(bytes, encoding)`` of a chunk: raw bytes, str as UTF-8, anything else JSON."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), "raw"
    if isinstance(data, str):
        return data.encode("utf-8"), "utf8"
    return to_json(data), "json"


def parameter_anys(request, args: dict) -> None:
    """Fill ``parameters`` (JSON Anys) and ``binary_parameters`` (top-level bytes) of a request."""
    for key, value in (args or {}).items():
        if isinstance(value, (bytes, bytearray, memoryview)):
            request.binary_parameters[key] = bytes(value)
        else:
            encode_any(request.parameters[key], value)


def decode_parameters(request, allow_pickle: bool = False) -> dict:
    """The arguments of an ExecuteToolRequest (or ExecuteElixirToolRequest).

    Raises:
        ValueError: a parameter is not JSON, or a binary parameter asks for pickle while it is not enabled.
    """
    args = {key: decode_any(value) for key, value in request.parameters.items()}
    binary = getattr(request, "binary_parameters", None)
    for key, raw in (binary.items() if binary is not None else ()):
        if request.metadata.get("binary_format:%s" % key) == "pickle":
            if not allow_pickle:
                raise ValueError("binary parameter %r is a pickle, and unpickling is off (it runs arbitrary "
                                 "code): send raw bytes, or set SNAKEPIT_ALLOW_PICKLE=1 in the worker" % key)
            import pickle

            args[key] = pickle.loads(raw)
        else:
            args[key] = bytes(raw)
    return args
