"""Property test of the Python side of the value table (docs/VALUES.md), with hypothesis.

Generated Python values (ints of any size, floats with NaN/inf/-0, text with lone surrogates, bytes, tuples,
sets, dicts keyed by text, ints, tuples and bytes, dicts that carry the tag key, dates, datetimes, Decimals,
UUIDs, enums) are encoded as a result by each codec and decoded again. Each one either comes back in the form the
table gives it, or fails with SerializationError (never another exception); and no user dict is read as a tag.
Each example holds 20 values: 2 codecs x 50 examples x 20 = 2,000 values per run (hypothesis spends about 6 ms
of CPU generating each one; the 12,000 values of the fast-check property test go through real workers). The
strategies are here so that new rows get fuzzed too.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import uuid

import pytest

from conftest import REQUIRE_OPTIONAL
from snakepit_bridge.channel.codec import available_codecs, make_codec
from snakepit_bridge.channel.values import DECODED_PROBLEMS, TAG_KEY

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:
    if REQUIRE_OPTIONAL:
        raise
    pytest.skip("hypothesis is not importable (npx snakepit setup --dev installs it)", allow_module_level=True)

UTC = dt.timezone.utc


class Mood(enum.Enum):
    UP = "up"
    DOWN = 2


# ------------------------------------------------------------------------------------------ strategies

texts = st.one_of(st.text(), st.text(alphabet=st.characters(codec=None)), st.sampled_from([TAG_KEY, "a\ud800", ""]))
ints = st.one_of(st.integers(), st.integers(min_value=-(10**400), max_value=10**400), st.just(-(2**63)),
                 st.just(2**64 - 1), st.just(2**64))
floats = st.floats(allow_nan=True, allow_infinity=True)
datetimes = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                         timezones=st.one_of(st.none(), st.just(UTC)))
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts, st.binary(max_size=32), datetimes,
                    st.dates(), st.decimals(allow_nan=False), st.uuids(), st.sampled_from(list(Mood)))
keys = st.one_of(texts, st.integers(min_value=-(10**6), max_value=10**6),
                 st.tuples(st.integers(), st.text(max_size=3)), st.binary(max_size=4))
forged = st.fixed_dictionaries({TAG_KEY: st.sampled_from(["ref", "datetime", "bytes", "int", "map", "str"]),
                                "value": st.one_of(st.text(), st.integers())})
values = st.recursive(
    st.one_of(scalars, forged),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(keys, inner, max_size=4),
                            st.frozensets(st.integers(), max_size=4)),
    max_leaves=12,
)


# ------------------------------------------------------------------------------ what comes back

def expected(value, json: bool):
    """The value as the codec's own decoder gives it back (the wire form of each table row)."""
    if isinstance(value, enum.Enum):
        return expected(value.value, json)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [expected(v, json) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, dict):
        return {_key(k, json): expected(v, json) for k, v in value.items()}
    return value


def _key(key, json: bool):
    if json and type(key) is int:
        return str(key)  # a JSON object's keys are text (but a map sent as a `map` tag keeps int keys)
    return key


def int_keys_as_text(value):
    """JSON only: int keys as text on both sides (an escaped map keeps its int keys, a plain one does not)."""
    if isinstance(value, list):
        return [int_keys_as_text(v) for v in value]
    if isinstance(value, dict):
        return {str(k) if type(k) is int else k: int_keys_as_text(v) for k, v in value.items()}
    return value


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


CODECS = available_codecs()


@pytest.mark.parametrize("codec_name", CODECS)
@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batch=st.lists(values, min_size=20, max_size=20))
def test_every_value_round_trips_or_fails_alone(codec_name, batch):
    codec = make_codec(codec_name)
    json = codec_name == "json"
    body = codec.encode({"type": "result", "id": 1, "value": batch})
    back = codec.decode(body)["value"]
    assert not DECODED_PROBLEMS, DECODED_PROBLEMS
    want = expected(batch, json)
    if json:
        back, want = int_keys_as_text(back), int_keys_as_text(want)
    assert same(back, want), (back, want)
