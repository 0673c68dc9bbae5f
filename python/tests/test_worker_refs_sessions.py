"""End to end: session state, session_end, object references (and their refusal), stream.send tools."""

from __future__ import annotations

import pytest

from snakepit_bridge.channel.values import RefToken

REFS = "fixture_adapters:RefAdapter"


@pytest.fixture
def rhost(make_host):
    return make_host(adapter=REFS)


def run_in(host, session, tool, args=None, **fields):
    return host.run(tool, args, session=session, **fields)


def test_session_state_is_per_session_and_dropped_at_session_end(rhost):
    assert run_in(rhost, "a", "remember", {"key": "k", "value": [1, 2]}) is None
    assert run_in(rhost, "b", "remember", {"key": "k", "value": "other"}) is None
    assert run_in(rhost, "a", "recall", {"key": "k"}) == [1, 2]
    assert run_in(rhost, "b", "recall", {"key": "k"}) == "other"
    assert rhost.run("state_sessions") == ["a", "b"]
    rhost.send({"type": "session_end", "session": "a"})
    assert rhost.run("state_sessions") == ["b"]
    assert run_in(rhost, "a", "recall", {"key": "k"}) == "missing"
    assert rhost.run("ended_sessions") == ["a"]  # the adapter's on_session_end hook ran


def test_store_without_a_session_is_a_clear_error(rhost):
    kind, info = rhost.run("remember", {"key": "k", "value": 1})
    assert kind == "error" and info["type"] == "RuntimeError" and "needs a session" in info["message"]


def test_an_unencodable_result_in_a_session_comes_back_as_a_reference(rhost):
    ref = run_in(rhost, "s1", "make_model", {"name": "alpha", "weight": 2.0})
    assert isinstance(ref, RefToken)
    tag = ref.tag()
    assert tag["type"] == "Model" and tag["module"] == "fixture_adapters"
    assert tag["session"] == "s1" and tag["worker"] == "test-1" and tag["id"].startswith("r")
    assert "alpha" in tag["repr"]
    # Passed back in the same session, the reference is the object again.
    assert run_in(rhost, "s1", "weigh", {"model": ref, "x": 3}) == {"name": "alpha", "value": 6.0,
                                                                      "type": "Model"}


def test_an_explicit_reference_inside_a_result(rhost):
    pair = run_in(rhost, "s1", "make_pair", {"name": "beta"})
    assert isinstance(pair["model"], RefToken) and pair["score"] == 0.5


def test_without_a_session_an_unencodable_result_is_a_serialization_error_with_a_hint(rhost):
    kind, info = rhost.run("make_model")
    assert kind == "error" and info["kind"] == "serialization"
    assert "sessionId" in info["message"] and info["details"]["path"] == "result"


@pytest.mark.parametrize("session,fragment", [("s2", "belongs to session 's1'"), (None, "has no session")])
def test_a_reference_from_another_session_is_refused(rhost, session, fragment):
    ref = run_in(rhost, "s1", "make_model", {"name": "alpha"})
    fields = {"session": session} if session else {}
    kind, info = rhost.run("weigh", {"model": ref}, **fields)
    assert kind == "error" and info["kind"] == "invalid_arguments"
    assert fragment in info["details"]["problem"] and "Model" in info["details"]["problem"]


def test_a_reference_from_another_worker_is_refused(rhost):
    ref = run_in(rhost, "s1", "make_model")
    forged = RefToken(dict(ref.tag(), worker="elsewhere-9"))
    kind, info = run_in(rhost, "s1", "weigh", {"model": forged})
    assert kind == "error" and "lives on worker elsewhere-9" in info["details"]["problem"]


def test_a_malformed_reference_refuses_the_call_not_the_channel(rhost):
    kind, info = run_in(rhost, "s1", "weigh", {"model": RefToken({"__snakepit__": "ref", "id": 5})})
    assert kind == "error" and "not a valid object reference" in info["details"]["problem"]
    assert rhost.run("live_models") == 0  # the worker is still serving


def test_release_frees_the_object_and_later_use_is_refused(rhost):
    ref = run_in(rhost, "s1", "make_model")
    assert rhost.run("live_models") == 1
    rhost.send({"type": "release", "refs": [ref.id], "session": "s1"})
    assert rhost.run("live_models") == 0
    kind, info = run_in(rhost, "s1", "weigh", {"model": ref})
    assert kind == "error" and "was released" in info["details"]["problem"]


def test_malformed_release_and_session_end_frames_are_ignored(rhost):
    ref = run_in(rhost, "s1", "make_model")
    rhost.send({"type": "release", "refs": [{"not": "an id"}, 5, None]})
    rhost.send({"type": "release", "refs": "r1"})
    rhost.send({"type": "session_end", "session": ["s1"]})
    assert rhost.run("live_models") == 1
    assert run_in(rhost, "s1", "weigh", {"model": ref})["name"] == "m"


def test_release_for_another_session_is_ignored(rhost):
    ref = run_in(rhost, "s1", "make_model")
    rhost.send({"type": "release", "refs": [ref.id], "session": "s2"})
    assert rhost.run("live_models") == 1


def test_session_end_drops_the_sessions_references(rhost):
    run_in(rhost, "s1", "make_model")
    run_in(rhost, "s1", "make_pair")
    run_in(rhost, "s2", "make_model")
    assert rhost.run("ref_stats") == {"refs": 3, "sessions": 2}
    rhost.send({"type": "session_end", "session": "s1"})
    assert rhost.run("ref_stats") == {"refs": 1, "sessions": 1}
    assert rhost.run("live_models") == 1


def test_call_method_and_get_attr(rhost):
    ref = run_in(rhost, "s1", "make_model", {"name": "alpha", "weight": 2.0})
    assert run_in(rhost, "s1", "__snakepit__.call_method", {"ref": ref, "method": "predict",
                                                             "args": [5]}) == 10.0
    assert run_in(rhost, "s1", "__snakepit__.call_method", {"ref": ref, "method": "predict",
                                                             "kwargs": {"x": 1}}) == 2.0
    assert run_in(rhost, "s1", "__snakepit__.get_attr", {"ref": ref, "name": "name"}) == "alpha"
    clone = run_in(rhost, "s1", "__snakepit__.call_method", {"ref": ref, "method": "clone",
                                                              "args": ["copy"]})
    assert isinstance(clone, RefToken) and clone.id != ref.id  # a method's unencodable result: a new ref
    kind, info = run_in(rhost, "s1", "__snakepit__.get_attr", {"ref": ref, "name": "nope"})
    assert kind == "error" and info["type"] == "AttributeError"


def test_call_method_needs_a_reference(rhost):
    kind, info = run_in(rhost, "s1", "__snakepit__.call_method", {"ref": {"x": 1}, "method": "keys"})
    assert kind == "error" and info["kind"] == "invalid_arguments" and "PyRef" in info["message"]


def test_stream_send_style_sends_chunks_then_the_return_value(rhost):
    msg, chunks = rhost.wait(rhost.call("batch_process", {"items": [1, 2, 3, 4]}, stream=True, window=100))
    assert msg == {"type": "result", "id": msg["id"], "value": None}
    assert [c["seq"] for c in chunks] == [0, 1, 2, 3, 4]
    assert [c["data"] for c in chunks[:4]] == [{"progress": p, "item": i * 2}
                                               for p, i in [(25, 1), (50, 2), (75, 3), (100, 4)]]
    assert chunks[4]["data"] == {"total": 4} and chunks[4]["final"] is True


def test_stream_send_honours_credit_and_cancel(rhost):
    call_id = rhost.call("batch_process", {"items": list(range(100))}, stream=True, window=3)
    got = [rhost.recv() for _ in range(3)]
    assert [m["seq"] for m in got] == [0, 1, 2]
    rhost.send({"type": "cancel", "id": call_id, "reason": "consumer_stopped"})
    msg, chunks = rhost.wait(call_id)
    assert chunks == [] and msg["error"]["kind"] == "cancelled"
    assert rhost.run("sender_finally_count") == 1


def test_async_stream_send(rhost):
    call_id = rhost.call("async_batch", {"items": [1, 2, 3]}, stream=True, window=1)
    first = rhost.recv()
    assert first["data"] == {"item": 1}
    rhost.send({"type": "credit", "id": call_id, "n": 10})
    msg, chunks = rhost.wait(call_id)
    assert [c["data"] for c in chunks] == [{"item": 2}, {"item": 3}] and msg["value"] is None


def test_a_stream_send_tool_needs_a_stream_call(rhost):
    kind, info = rhost.run("batch_process", {"items": [1]})
    assert kind == "error" and info["kind"] == "invalid_arguments" and "stream call" in info["message"]


def test_params_style_gets_every_argument(rhost):
    assert rhost.run("params_style", {"a": 1, "b": [2]}) == {"got": {"a": 1, "b": [2]}}


def test_tool_specs_hide_the_stream_parameter(rhost):
    spec = next(t for t in rhost.ready["tools"] if t["name"] == "batch_process")
    assert spec["supports_streaming"] is True
    assert [p["name"] for p in spec["parameters"]] == ["params"]
    assert spec["signature"] == "batch_process(params)"
