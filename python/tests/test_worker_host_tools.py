"""End to end: Python calling host tools (host_call / host_result / host_error), re-entrancy, deadlines."""

from __future__ import annotations

import time

TOOLS = "fixture_adapters:ToolsAdapter"
ASYNC = "fixture_adapters:AsyncAdapter"


def test_host_call_and_result(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("call_host", {"name": "double", "args": {"x": 21}}, session="s-1", timeout_ms=5000)
    hc = host.expect("host_call")
    assert hc["tool"] == "double" and hc["args"] == {"x": 21}
    assert hc["session"] == "s-1" and hc["parent"] == call_id and 0 < hc["timeout_ms"] <= 5000
    host.send({"type": "host_result", "id": hc["id"], "value": {"doubled": 42}})
    assert host.wait(call_id)[0]["value"] == {"value": {"doubled": 42}}


def test_host_error_raises_host_tool_error(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("call_host", {"name": "fails"})
    hc = host.expect("host_call")
    assert "timeout_ms" not in hc and "session" not in hc
    host.send({"type": "host_error", "id": hc["id"],
               "error": {"name": "fails", "message": "no such thing", "code": "E_NOPE"}})
    assert host.wait(call_id)[0]["value"] == {"error": {"name": "fails", "message": "no such thing",
                                                         "code": "E_NOPE"}}


def test_host_call_is_bounded_by_the_deadline(make_host):
    host = make_host(adapter=TOOLS)
    started = time.monotonic()
    call_id = host.call("call_host", {"name": "slow"}, timeout_ms=300)
    hc = host.expect("host_call")
    msg, _ = host.wait(call_id)
    assert msg["value"]["error"]["code"] == "timeout" and time.monotonic() - started < 1.0
    host.send({"type": "host_result", "id": hc["id"], "value": "too late"})  # ignored, not a protocol error
    assert host.run("finally_count") == 0


def test_host_tool_calling_back_into_the_same_worker(make_host):
    host = make_host(adapter=TOOLS)
    outer = host.call("call_host", {"name": "uses_python"})
    hc = host.expect("host_call")
    # The host tool calls back into this worker before answering: no deadlock.
    inner = host.call("blob", {"n": 3})
    assert host.wait(inner)[0]["value"] == b"xxx"
    deeper = host.call("call_host", {"name": "second"})
    hc2 = host.expect("host_call")
    host.send({"type": "host_result", "id": hc2["id"], "value": 2})
    assert host.wait(deeper)[0]["value"] == {"value": 2}
    host.send({"type": "host_result", "id": hc["id"], "value": 1})
    assert host.wait(outer)[0]["value"] == {"value": 1}


def test_answers_out_of_order_while_nested(make_host):
    host = make_host(adapter=TOOLS)
    outer = host.call("call_host", {"name": "a"})
    hc_a = host.expect("host_call")
    inner = host.call("call_host", {"name": "b"})
    hc_b = host.expect("host_call")
    host.send({"type": "host_result", "id": hc_a["id"], "value": "A"})  # the outer answer comes first
    host.send({"type": "host_result", "id": hc_b["id"], "value": "B"})
    assert host.wait(inner)[0]["value"] == {"value": "B"}
    assert host.wait(outer)[0]["value"] == {"value": "A"}


def test_cancel_while_waiting_for_the_host(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("call_host", {"name": "never"})
    host.expect("host_call")
    host.send({"type": "cancel", "id": call_id, "reason": "abort"})
    msg, _ = host.wait(call_id)
    assert msg["error"]["kind"] == "cancelled"
    assert host.run("finally_count") == 0


def test_async_host_calls_do_not_block_the_loop(make_host):
    host = make_host(adapter=ASYNC)
    first = host.call("ahost", {"name": "one"})
    second = host.call("ahost", {"name": "two"})
    calls = {}
    while len(calls) < 2:
        hc = host.expect("host_call")
        calls[hc["tool"]] = hc
    assert calls["one"]["parent"] == first and calls["two"]["parent"] == second
    host.send({"type": "host_result", "id": calls["two"]["id"], "value": 2})
    assert host.wait(second)[0]["value"] == {"value": 2}
    host.send({"type": "host_error", "id": calls["one"]["id"], "error": {"name": "one", "message": "m"}})
    assert host.wait(first)[0]["value"] == {"error": {"name": "one", "message": "m", "code": None}}


def test_host_result_for_an_id_never_sent_exits_4(host):
    host.send({"type": "host_result", "id": 99, "value": 1})
    assert host.exit_code() == 4


def test_host_tools_listing_and_unknown_host_tool_error(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("host_tool_view", {"name": "ghost"}, session="s-9")
    listing = host.expect("host_call")
    assert listing["tool"] == "__snakepit__.host_tools" and listing["args"] == {} and listing["session"] == "s-9"
    host.send({"type": "host_result", "id": listing["id"], "value": [
        {"name": "double", "description": "Double it", "parameters": {"type": "object"}}]})
    hc = host.expect("host_call")
    assert hc["tool"] == "ghost" and hc["args"] == {"name": "an argument called name"}
    host.send({"type": "host_error", "id": hc["id"], "error": {
        "name": "UnknownHostToolError", "message": "no host tool named \"ghost\"; available: double",
        "code": "SNAKEPIT_UNKNOWN_HOST_TOOL"}})
    value = host.wait(call_id)[0]["value"]
    assert value["listed"] == {"double": ["Double it", {"type": "object"}]}
    assert value["failure"] == {"class": "UnknownHostToolError", "tool": "ghost", "name": "UnknownHostToolError",
                                "code": "SNAKEPIT_UNKNOWN_HOST_TOOL", "runtime": True,
                                "text": "no host tool named \"ghost\"; available: double"}


def test_arguments_that_do_not_fit_the_hints_are_refused_before_the_tool_runs(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("blob", {"n": "3"})
    msg, _ = host.wait(call_id)
    assert msg["error"]["kind"] == "invalid_arguments"
    assert msg["error"]["details"]["problem"] == "argument n: expected integer, got string '3'"
    assert msg["error"]["message"] == "blob() argument n: expected integer, got string '3'"
