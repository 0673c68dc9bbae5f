"""End to end: stream calls, credit (back-pressure), cancel of streams, final chunks (both codecs)."""

from __future__ import annotations

import time

import pytest

from fakehost import HostTimeout

TOOLS = "fixture_adapters:ToolsAdapter"
ASYNC = "fixture_adapters:AsyncAdapter"


def chunks_of(host, call_id, n, timeout=5.0):
    """Read exactly ``n`` chunk frames of ``call_id`` (nothing else may arrive)."""
    got = []
    for _ in range(n):
        msg = host.recv(timeout)
        assert msg["type"] == "chunk" and msg["id"] == call_id, msg
        got.append(msg)
    return got


def assert_silent(host, seconds):
    with pytest.raises(HostTimeout):
        msg = host.recv(seconds)
        pytest.fail("expected no frame, got %r" % (msg,))


def test_stream_sends_every_chunk_then_the_result(host):
    call_id = host.call("count", {"n": 5}, stream=True, window=100)
    msg, chunks = host.wait(call_id)
    assert msg == {"type": "result", "id": call_id, "value": None}
    assert [c["seq"] for c in chunks] == [0, 1, 2, 3, 4]
    assert [c["data"] for c in chunks] == [{"i": i} for i in range(5)]
    assert not any(c.get("final") for c in chunks)


def test_stream_without_window_is_unlimited(host):
    call_id = host.call("count", {"n": 5000}, stream=True)
    msg, chunks = host.wait(call_id, timeout=30)
    assert msg["type"] == "result" and len(chunks) == 5000
    assert chunks[-1]["data"] == {"i": 4999} and chunks[-1]["seq"] == 4999


@pytest.mark.parametrize("adapter,tool", [("snakepit_bridge.adapters.showcase:ShowcaseAdapter", "count"),
                                          (ASYNC, "acount")])
def test_credit_pauses_and_resumes_the_stream(make_host, adapter, tool):
    host = make_host(adapter=adapter)
    call_id = host.call(tool, {"n": 10}, stream=True, window=3)
    assert [c["data"]["i"] for c in chunks_of(host, call_id, 3)] == [0, 1, 2]
    assert_silent(host, 0.3)  # the window is spent: the generator is paused
    host.send({"type": "credit", "id": call_id, "n": 2})
    assert [c["data"]["i"] for c in chunks_of(host, call_id, 2)] == [3, 4]
    assert_silent(host, 0.2)
    host.send({"type": "credit", "id": call_id, "n": 100})
    msg, chunks = host.wait(call_id)
    assert [c["data"]["i"] for c in chunks] == [5, 6, 7, 8, 9] and msg["type"] == "result"


def test_other_calls_wait_while_a_sync_stream_is_paused(host):
    stream_id = host.call("count", {"n": 5}, stream=True, window=1)
    chunks_of(host, stream_id, 1)
    add_id = host.call("add", {"a": 1, "b": 2})
    assert_silent(host, 0.2)  # sync calls run one at a time, in order
    host.send({"type": "credit", "id": stream_id, "n": 10})
    msg, _ = host.wait(stream_id)
    assert msg["type"] == "result"
    assert host.wait(add_id)[0]["value"] == 3


@pytest.mark.parametrize("reason", ["consumer_stopped", "abort"])
def test_cancelling_a_paused_stream_runs_its_finally(make_host, reason):
    host = make_host(adapter=TOOLS)
    call_id = host.call("gen_finally", {"n": 1000}, stream=True, window=4)
    chunks_of(host, call_id, 4)
    host.send({"type": "cancel", "id": call_id, "reason": reason})
    others = []
    msg, _ = host.wait(call_id, others=others)
    assert msg["type"] == "error" and msg["error"]["kind"] == "cancelled"
    assert msg["error"]["details"] == {"reason": reason}
    assert any(m["type"] == "log" and m["message"] == "finally ran" and m["call"] == call_id
               for m in others)  # before the terminal frame, in the call's context
    assert host.run("finally_count") == 1


def test_cancelling_a_running_stream(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("gen_finally", {"n": 1000, "delay": 0.2}, stream=True)
    chunks_of(host, call_id, 1)
    started = time.monotonic()
    host.send({"type": "cancel", "id": call_id, "reason": "abort"})
    msg, _ = host.wait(call_id)
    assert msg["error"]["kind"] == "cancelled" and time.monotonic() - started < 0.5
    assert host.run("finally_count") == 1


def test_cancelling_an_async_stream_runs_its_finally(make_host):
    host = make_host(adapter=ASYNC)
    call_id = host.call("acount", {"n": 1000, "delay": 0.05}, stream=True, window=2)
    chunks_of(host, call_id, 2)
    host.send({"type": "cancel", "id": call_id, "reason": "consumer_stopped"})
    msg, _ = host.wait(call_id)
    assert msg["error"]["kind"] == "cancelled"
    assert host.run("afinally_count") == 1


def test_a_chunk_is_not_held_back_while_the_generator_blocks(make_host):
    host = make_host(adapter=TOOLS)
    started = time.monotonic()
    call_id = host.call("slow_second_chunk", {"pause": 1.0}, stream=True, window=10)
    first = host.recv()
    assert first["data"] == {"n": 1} and time.monotonic() - started < 0.5
    msg, chunks = host.wait(call_id)
    assert [(c["data"], c.get("final")) for c in chunks] == [({"n": 2}, True)]  # the third is never sent
    assert msg == {"type": "result", "id": call_id, "value": None}


def test_generator_return_value_is_the_result(make_host):
    host = make_host(adapter=TOOLS)
    msg, chunks = host.wait(host.call("gen_return", stream=True))
    assert [c["data"] for c in chunks] == [1] and msg["value"] == "done"


def test_a_plain_value_streams_as_one_final_chunk(make_host):
    host = make_host(adapter=TOOLS)
    msg, chunks = host.wait(host.call("plain", stream=True, window=1))
    assert [(c["seq"], c["data"], c["final"]) for c in chunks] == [(0, {"plain": True}, True)]
    assert msg["value"] is None


def test_a_chunk_that_cannot_be_encoded_ends_the_stream(make_host):
    host = make_host(adapter=TOOLS)
    msg, chunks = host.wait(host.call("bad_chunk", stream=True))
    assert [c["data"] for c in chunks] == [{"ok": 1}]
    assert msg["error"]["kind"] == "serialization" and msg["error"]["details"]["path"] == "chunk.bad"


def test_credit_for_unknown_or_finished_calls_is_ignored(host):
    host.send({"type": "credit", "id": 999, "n": 5})
    assert host.run("add", {"a": 1, "b": 1}) == 2
