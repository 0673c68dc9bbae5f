"""Both codecs against PROTOCOL.md section 3: every row of the values table, tags, attachments, errors."""

from __future__ import annotations

import datetime
import json
import math
import struct

import pytest

from conftest import require_optional
from snakepit_bridge.channel.codec import SerializationError, make_codec
from snakepit_bridge.channel.framing import ProtocolError
from snakepit_bridge.channel.values import DECODED_PROBLEMS, BadValue

BIG64 = 2**62 + 1  # 2**53 <= n < 2**63
HUGE = 2**80 + 7  # beyond 64 bits


def roundtrip(codec, value):
    msg = codec.decode(codec.encode({"type": "result", "id": 1, "value": value}))
    assert msg["type"] == "result" and msg["id"] == 1
    return msg["value"]


def json_wire(value):
    """The JSON text of a result carrying ``value`` (attachments cut off)."""
    body = make_codec("json").encode({"type": "result", "id": 1, "value": value})
    if body[:1] == b"\x01":
        (size,) = struct.unpack_from(">I", body, 1)
        body = body[5:5 + size]
    return json.loads(body)["value"]


@pytest.fixture(params=["msgpack", "json"])
def codec(request):
    if request.param == "msgpack":
        require_optional("msgpack")
    return make_codec(request.param)


# ------------------------------------------------------------------------- round trips (both codecs)

@pytest.mark.parametrize("value", [
    None, True, False, 0, 1, -1, 2**53 - 1, -(2**53 - 1), 2**53, -(2**53), BIG64, -BIG64, 2**63 - 1, -(2**63),
    HUGE, -HUGE, 0.5, -1e300, 1e-300, "", "text", "ünïcødé ✓ 😀", b"", b"\x00\x01\xff" * 100,
    [], [1, "two", None], {}, {"a": {"b": [1, {"c": None}]}},
])
def test_values_round_trip(codec, value):
    got = roundtrip(codec, value)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("value", [float("inf"), float("-inf")])
def test_infinities_round_trip(codec, value):
    assert roundtrip(codec, value) == value


def test_nan_round_trips(codec):
    assert math.isnan(roundtrip(codec, float("nan")))


def test_bytearray_and_memoryview_arrive_as_bytes(codec):
    assert roundtrip(codec, bytearray(b"ab")) == b"ab"
    assert roundtrip(codec, memoryview(b"cd")) == b"cd"
    assert roundtrip(codec, {"m": memoryview(bytes(range(10)))[2:5]}) == {"m": b"\x02\x03\x04"}


def test_tuple_arrives_as_list(codec):
    assert roundtrip(codec, (1, (2, 3))) == [1, [2, 3]]


def test_many_attachments_keep_their_order(codec):
    value = {"blobs": [bytes([i]) * i for i in range(20)], "x": b"last"}
    assert roundtrip(codec, value) == value


def test_integer_kinds_survive_in_containers(codec):
    value = {"ids": [HUGE, BIG64, 2**53, 12], "nested": {"n": -HUGE}}
    assert roundtrip(codec, value) == value


# ------------------------------------------------------------------------------ JSON wire format

def test_json_small_integers_are_numbers():
    assert json_wire(2**53 - 1) == 2**53 - 1
    assert json_wire([-(2**53 - 1)]) == [-(2**53 - 1)]
    assert json_wire([2**53, -(2**53)]) == [2**53, -(2**53)]  # a double holds ±2**53 exactly


@pytest.mark.parametrize("value", [2**53 + 1, -(2**53) - 1, BIG64, HUGE, -HUGE])
def test_json_large_integers_are_int_tags(value):
    body = make_codec("json").encode({"type": "result", "id": 1, "value": value})
    msg = json.loads(body)
    assert msg["tagged"] is True
    assert msg["value"] == {"__snakepit__": "int", "value": hex(value)}
    assert list(msg["value"])[0] == "__snakepit__"  # the tag's first key


@pytest.mark.parametrize("value,text", [(float("nan"), "NaN"), (float("inf"), "Infinity"),
                                        (float("-inf"), "-Infinity")])
def test_json_non_finite_floats_are_float_tags(value, text):
    assert json_wire(value) == {"__snakepit__": "float", "value": text}


def test_json_digits_that_only_look_like_big_integers_stay_plain():
    # 16+ digit runs inside strings and floats take the slow path but must come out unchanged.
    value = {"s": "id 12345678901234567890", "f": 1e15 + 0.5, "g": 0.1234567890123456789}
    body = make_codec("json").encode({"type": "result", "id": 1, "value": value})
    assert b"tagged" not in body
    assert json.loads(body)["value"] == value


def test_json_plain_messages_are_not_tagged():
    body = make_codec("json").encode({"type": "result", "id": 1, "value": {"a": [1, 2.5, "x"]}})
    assert body.startswith(b"{") and b"tagged" not in body


def test_json_attachment_layout():
    body = make_codec("json").encode({"type": "result", "id": 1, "value": [b"AB", b"", b"xyz"]})
    assert body[:1] == b"\x01"
    (size,) = struct.unpack_from(">I", body, 1)
    msg = json.loads(body[5:5 + size])
    assert msg["tagged"] is True
    assert msg["value"] == [{"__snakepit__": "bytes", "attachment": k} for k in range(3)]
    rest = body[5 + size:]
    assert rest == b"\x00\x00\x00\x02AB" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x03xyz"


def test_json_non_string_keys_are_sent_as_strings():
    assert roundtrip(make_codec("json"), {1: "a", None: "b", 2.5: "c"}) == {"1": "a", "null": "b", "2.5": "c"}


def test_json_decodes_host_frames_with_attachments():
    text = json.dumps({"type": "call", "id": 3, "tool": "echo", "tagged": True,
                       "args": {"data": {"__snakepit__": "bytes", "attachment": 1},
                                "first": {"__snakepit__": "bytes", "attachment": 0},
                                "n": {"__snakepit__": "int", "value": "-123456789012345678901"},
                                "f": {"__snakepit__": "float", "value": "-Infinity"},
                                "later": {"__snakepit__": "objref", "id": "r1"}}}).encode()
    body = b"\x01" + struct.pack(">I", len(text)) + text + struct.pack(">I", 1) + b"Z" \
        + struct.pack(">I", 3) + b"\x00\x01\x02"
    msg = make_codec("json").decode(body)
    assert msg["args"]["first"] == b"Z" and msg["args"]["data"] == b"\x00\x01\x02"
    assert msg["args"]["n"] == -123456789012345678901 and msg["args"]["f"] == float("-inf")
    assert msg["args"]["later"] == {"__snakepit__": "objref", "id": "r1"}  # unknown kind: left as is


def test_json_tags_are_only_walked_when_tagged():
    text = b'{"type":"call","id":1,"args":{"x":{"__snakepit__":"int","value":"5"}}}'
    assert make_codec("json").decode(text)["args"]["x"] == {"__snakepit__": "int", "value": "5"}


@pytest.mark.parametrize("body", [b"", b"[1,2]", b"garbage", b"{not json", b"\x01\x00\x00\x00\x09{}",
                                  b'\x01\x00\x00\x00\x02{}\x00\x00\x00\x09ab', "{\"a\": \"\udcff\"}".encode(
                                      "utf-8", "surrogatepass")])
def test_json_rejects_malformed_bodies(body):
    with pytest.raises(ProtocolError):
        make_codec("json").decode(body)


def test_json_bad_attachment_index_is_a_bad_value_not_a_broken_channel():
    text = b'{"type":"x","tagged":true,"v":{"__snakepit__":"bytes","attachment":4}}'
    msg = make_codec("json").decode(b"\x01" + struct.pack(">I", len(text)) + text)
    assert isinstance(msg["v"], BadValue) and "bytes" in msg["v"].reason
    assert DECODED_PROBLEMS == [msg["v"]]
    del DECODED_PROBLEMS[:]


# --------------------------------------------------------------------------- msgpack wire format

@pytest.fixture
def msgpack():
    require_optional("msgpack")
    import msgpack

    return msgpack


def test_msgpack_uses_bin_and_str_types(msgpack):
    body = make_codec("msgpack").encode({"type": "result", "id": 1, "value": [b"\x00", "s"]})
    assert b"\xc4\x01\x00" in body  # bin8
    assert b"\xa1s" in body  # fixstr


def test_msgpack_int64_range_is_native(msgpack):
    body = make_codec("msgpack").encode({"type": "result", "id": 1, "value": BIG64})
    assert msgpack.unpackb(body)["value"] == BIG64


def test_msgpack_huge_integers_are_int_tags_in_ext_83(msgpack):
    body = make_codec("msgpack").encode({"type": "result", "id": 1, "value": HUGE})
    ext = msgpack.unpackb(body, raw=False)["value"]
    assert isinstance(ext, msgpack.ExtType) and ext.code == 83
    assert msgpack.unpackb(ext.data, raw=False) == {"__snakepit__": "int", "value": hex(HUGE)}


def test_msgpack_non_finite_floats_are_native(msgpack):
    body = make_codec("msgpack").encode({"type": "result", "id": 1, "value": float("inf")})
    assert msgpack.unpackb(body)["value"] == float("inf")


def test_msgpack_decodes_host_tags(msgpack):
    tag = msgpack.ExtType(83, msgpack.packb({"__snakepit__": "int", "value": "99999999999999999999999"}))
    other = msgpack.ExtType(83, msgpack.packb({"__snakepit__": "objref", "id": "r"}))
    args = {"n": tag, "r": other, "e": msgpack.ExtType(5, b"x")}
    body = msgpack.packb({"type": "call", "id": 1, "args": args}, use_bin_type=True)
    args = make_codec("msgpack").decode(body)["args"]
    assert args["n"] == 99999999999999999999999
    assert args["r"] == {"__snakepit__": "objref", "id": "r"}
    assert args["e"] == msgpack.ExtType(5, b"x")


@pytest.mark.parametrize("body", [b"", b"\x93\x01\x02\x03", b"\xc1", b"\x81\xa1a"])
def test_msgpack_rejects_malformed_bodies(msgpack, body):
    with pytest.raises(ProtocolError):
        make_codec("msgpack").decode(body)


# ------------------------------------------------------------------------------ serialization errors
class NoForm:
    """A class with no by-value form."""

    def __str__(self) -> str:
        return "<NoForm>"



def test_unencodable_value_names_its_path(codec):
    value = {"rows": [{"when": 1}, {"when": 2}, {"when": NoForm()}]}
    with pytest.raises(SerializationError) as info:
        codec.encode({"type": "result", "id": 1, "value": value})
    assert info.value.path == "result.rows[2].when"
    assert info.value.python_type == "NoForm"


@pytest.mark.parametrize("msg,path", [
    ({"type": "result", "id": 1, "value": object()}, "result"),
    ({"type": "chunk", "id": 1, "seq": 0, "data": [1, NoForm()]}, "chunk[1]"),
    ({"type": "host_call", "id": 1, "tool": "t", "args": {"model": object}}, "args.model"),
    ({"type": "result", "id": 1, "value": {"odd key": {"x": NoForm()}}}, 'result["odd key"].x'),
    ({"type": "result", "id": 1, "value": {(1, 2): {"x": NoForm()}}}, 'result["(1, 2)"].x'),
])
def test_paths_for_each_message_kind(codec, msg, path):
    with pytest.raises(SerializationError) as info:
        codec.encode(msg)
    assert info.value.path == path


def test_cycles_are_reported(codec):
    loop = []
    loop.append(loop)
    with pytest.raises(SerializationError, match="cycle") as info:
        codec.encode({"type": "result", "id": 1, "value": {"a": loop}})
    assert info.value.path == "result.a[0]"


def test_unencodable_map_key(codec):
    with pytest.raises(SerializationError, match="NoForm") as info:
        codec.encode({"type": "result", "id": 1, "value": {NoForm(): 1}})
    assert info.value.path == 'result["<NoForm>"]'



def test_encoding_after_an_error_still_works(codec):
    with pytest.raises(SerializationError):
        codec.encode({"type": "result", "id": 1, "value": [b"x", object()]})
    assert roundtrip(codec, {"fine": b"yes"}) == {"fine": b"yes"}


# ----------------------------------------------------------------------------------- numpy scalars

def test_numpy_scalars_are_sent_as_python_numbers(codec):
    require_optional("numpy")
    import numpy as np

    value = {"i": np.int64(7), "f": np.float32(0.5), "b": np.bool_(True), "big": np.uint64(2**63 + 5),
             "list": [np.int16(-3), np.float64(2.5)]}
    assert roundtrip(codec, value) == {"i": 7, "f": 0.5, "b": True, "big": 2**63 + 5, "list": [-3, 2.5]}


def test_numeric_numpy_arrays_travel_as_ndarray_tags(codec):
    require_optional("numpy")
    import numpy as np

    value = {"a": np.arange(6, dtype=np.int16).reshape(3, 2), "f": np.array([0.5, np.nan]),
             "big": np.array([1], dtype=">i8"), "empty": np.zeros((0, 4)), "nan": float("nan")}
    back = roundtrip(codec, value)
    assert back["a"].dtype == np.int16 and back["a"].shape == (3, 2) and back["a"].tolist() == [[0, 1], [2, 3], [4, 5]]
    assert back["f"][0] == 0.5 and np.isnan(back["f"][1])
    assert back["big"].dtype == np.int64 and back["big"].tolist() == [1]  # big-endian input, little on the wire
    assert back["empty"].shape == (0, 4)
    assert roundtrip(codec, {"a": np.array([["x"], ["y"]])}) == {"a": [["x"], ["y"]]}  # no raw form: lists


def test_datetimes_travel_as_datetime_tags(codec):
    naive = datetime.datetime(2024, 1, 2, 3, 4, 5, 123456)
    aware = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    back = roundtrip(codec, {"naive": naive, "aware": aware})
    assert back["naive"] == naive.replace(tzinfo=datetime.timezone.utc)  # naive is read as UTC
    assert back["aware"] == aware and back["aware"].utcoffset() == datetime.timedelta(hours=2)


@pytest.mark.parametrize("tag", [
    {"__snakepit__": "ndarray", "dtype": "float64", "shape": [3], "data": b"\0" * 5},
    {"__snakepit__": "ndarray", "dtype": "object", "shape": [1], "data": b"\0" * 8},
    {"__snakepit__": "ndarray", "dtype": "int8", "shape": [-1], "data": b""},
    {"__snakepit__": "datetime", "value": "not a date"},
    {"__snakepit__": "datetime"},
])
def test_malformed_extended_tags_are_protocol_errors(tag):
    from snakepit_bridge.channel.extended import read_extended

    with pytest.raises((KeyError, TypeError, ValueError)):
        read_extended(tag["__snakepit__"], tag)
