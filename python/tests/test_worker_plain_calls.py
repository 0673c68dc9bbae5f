"""The main loop's inline path for plain calls (Worker._run_batch): each call still gets exactly one terminal
frame, the same one the general path (invoke.run_call) sends. A call with a ``trace`` field takes the general path
(no tracing API is installed here, so the trace changes nothing else), which gives the answer to compare with."""

from __future__ import annotations

import time

from snakepit_bridge.channel.framing import frame

PLAIN = "plain_adapters:PlainAdapter"
TRACE = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}


def answers(host, calls, traced=False):
    """Send ``calls`` ((tool, args) pairs) in one write; return their terminal frames in order of the calls."""
    ids, data = [], []
    for tool, args in calls:
        msg = {"type": "call", "id": host.next_id, "tool": tool, "args": args, "timeout_ms": 30000}
        if traced:
            msg["trace"] = TRACE
        ids.append(host.next_id)
        host.next_id += 1
        data.append(host_frame(host, msg))
    host.send_raw(b"".join(data))
    return [host.wait(i)[0] for i in ids]


def host_frame(host, msg):
    return frame(host.codec.encode(msg))


def strip(msg):
    msg = dict(msg)
    msg.pop("id")
    if msg["type"] == "error":
        msg["error"] = {k: v for k, v in msg["error"].items() if k not in ("traceback",)}
    return msg


VALUES = [0, -1, 2**63 - 1, 2**64 + 5, -(2**70), 1.5, float("inf"), True, False, None, "", "text", "é" * 100,
          {"a": [1, 2]}, [1, "x", None], b"bytes"]


def test_a_batch_of_plain_calls_answers_as_the_general_path_does(make_host):
    host = make_host(adapter=PLAIN)
    calls = [("echo", {"value": v}) for v in VALUES] + [
        ("double", {"n": 21}), ("double", {"n": "x"}), ("double", {}), ("echo", {"other": 1}),
        ("text", {"n": 70000}), ("lone_surrogate", {}), ("boom", {"message": "no"}), ("gen", {}),
        ("coro", {"value": 7}), ("nope", {}),
    ]
    calls = calls * 3  # several batches' worth, pipelined in one write
    plain = answers(host, calls)
    general = answers(host, calls, traced=True)
    assert [strip(m) for m in plain] == [strip(m) for m in general]
    results = {i: m for i, m in enumerate(plain[:len(calls) // 3])}
    assert [results[i]["value"] for i in range(len(VALUES))] == VALUES
    names = [tool for tool, _ in calls[:len(calls) // 3]]
    by_tool = {name: results[i] for i, name in enumerate(names) if i >= len(VALUES)}
    assert by_tool["double"]["type"] == "error"  # the last double call in the list is the one without n
    assert results[len(VALUES)]["value"] == 42
    assert by_tool["text"]["value"] == "x" * 70000  # a frame above 64 KiB: answer() frames it
    assert by_tool["boom"]["error"]["type"] == "ValueError" and by_tool["boom"]["error"]["message"] == "no"
    assert by_tool["coro"]["value"] == 7
    # Nothing else came: one terminal frame per call.
    host.send({"type": "ping", "id": 99})
    assert host.expect("pong")["id"] == 99
    assert not host.answered


def test_a_result_above_the_frame_limit_is_an_error_frame(make_host):
    host = make_host(adapter=PLAIN, max_frame_bytes=4096)
    plain = answers(host, [("text", {"n": 10000}), ("text", {"n": 10})])
    general = answers(host, [("text", {"n": 10000}), ("text", {"n": 10})], traced=True)
    assert [strip(m) for m in plain] == [strip(m) for m in general]
    assert plain[0]["type"] == "error" and plain[0]["error"]["kind"] == "payload_too_large"
    assert plain[1]["value"] == "x" * 10


def test_a_plain_call_cancelled_while_queued_gets_one_cancelled_frame(make_host):
    host = make_host(adapter=PLAIN)
    first = host.call("nap", {"seconds": 0.3})
    queued = host.call("echo", {"value": 1})
    after = host.call("echo", {"value": 2})
    host.send({"type": "cancel", "id": queued, "reason": "abort"})
    cancelled = host.wait(queued)[0]
    assert cancelled["type"] == "error" and cancelled["error"]["kind"] == "cancelled"
    assert host.wait(first)[0]["value"] == 0.3
    assert host.wait(after)[0]["value"] == 2
    host.send({"type": "ping", "id": 5})
    assert host.expect("pong")["id"] == 5
    assert queued not in host.answered


def test_a_running_plain_call_is_cancelled(make_host):
    host = make_host(adapter=PLAIN)
    running = host.call("nap", {"seconds": 5})
    behind = host.call("echo", {"value": "next"})
    time.sleep(0.1)
    host.send({"type": "cancel", "id": running, "reason": "timeout"})
    msg = host.wait(running, timeout=3)[0]
    assert msg["type"] == "error" and msg["error"]["kind"] == "cancelled"
    assert host.wait(behind)[0]["value"] == "next"
