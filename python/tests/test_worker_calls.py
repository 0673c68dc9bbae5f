"""End to end: a real worker process, the fake host, calls of every kind (both codecs)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time

import pytest

from fakehost import PYTHON_DIR
from snakepit_bridge.channel.codec import available_codecs
from snakepit_bridge.channel.framing import frame

TOOLS = "fixture_adapters:ToolsAdapter"
ERRORS = ["ValueError", "KeyError", "TypeError", "IndexError", "AttributeError", "ImportError",
          "ModuleNotFoundError", "RuntimeError", "NotImplementedError", "FileNotFoundError",
          "PermissionError", "ZeroDivisionError", "TimeoutError"]


def test_handshake(host, codec):
    hello = host.hello
    assert hello["protocol"] == 1 and hello["bridge"] == "0.1.0" and hello["pid"] == host.proc.pid
    assert hello["implementation"] == sys.implementation.name and hello["worker"] == "test-1"
    assert hello["python"] == "%d.%d.%d" % sys.version_info[:3]
    assert hello["codecs"] == available_codecs()
    ready = host.ready
    assert ready["type"] == "ready"
    assert ready["adapter"] == "snakepit_bridge.adapters.showcase:ShowcaseAdapter"
    tools = {t["name"]: t for t in ready["tools"]}
    assert set(tools) == {"ping", "echo", "add", "error_demo", "sleep", "count", "stats", "info",
                          "batch_process", "remember", "recall", "accumulator", "call_host"}
    assert all(t["description"] for t in tools.values())
    assert tools["count"]["supports_streaming"]
    assert tools["count"]["signature"].startswith("count(n: int = 10")


def test_showcase_tools(host, codec):
    pong = host.run("ping")
    assert pong["status"] == "ok" and pong["pid"] == host.proc.pid and pong["timestamp"] > 0
    assert host.run("add", {"a": 2, "b": 40}) == 42
    assert host.run("add", {"a": 0.5, "b": 0.25}) == 0.75
    assert host.run("sleep", {"seconds": 0.01}) == 0.01
    info = host.run("info")
    assert info["codec"] == codec and info["pid"] == host.proc.pid
    assert info["msgpack"] == ("msgpack" in available_codecs()) and isinstance(info["numpy"], bool)
    stats = host.run("stats", {"values": [1, 2, 3, 4]})
    assert stats["mean"] == 2.5 and abs(stats["std"] - 1.118033988749895) < 1e-12 and stats["n"] == 4
    assert stats["engine"] == ("numpy" if info["numpy"] else "statistics")


@pytest.mark.parametrize("value", [
    None, 0, -7, 2**53 + 1, 2**70, -(2**70), 3.25, float("inf"), "ünïcødé", b"\x00\xffraw", b"",
    [1, [2, [3]]], {"nested": {"bytes": b"x" * 70000, "list": [b"a", b"b"]}}, {},
])
def test_echo_round_trips_values(host, value):
    assert host.run("echo", {"value": value}) == {"value": value}


def test_echo_nan(host):
    got = host.run("echo", {"x": float("nan")})["x"]
    assert got != got


@pytest.mark.parametrize("error_type", ERRORS)
def test_error_demo_raises_each_builtin(host, error_type):
    kind, info = host.run("error_demo", {"error_type": error_type, "message": "asked"})
    assert kind == "error" and info["kind"] == "python"
    assert info["type"] == error_type and info["module"] == "builtins"
    assert info["mro"][0] == error_type and info["mro"][-1] == "BaseException"
    assert "asked" in info["message"]


def test_error_demo_refuses_other_names(host):
    _, info = host.run("error_demo", {"error_type": "SystemExit"})
    assert info["type"] == "ValueError" and "must be one of" in info["message"]


def test_python_exception_carries_the_traceback(host):
    _, info = host.run("error_demo", {"error_type": "ValueError", "message": "x must be positive"})
    tb = info["traceback"]
    assert tb.startswith("Traceback (most recent call last):")
    assert "showcase.py" in tb and "in error_demo" in tb
    assert "dispatch" not in tb  # the bridge's own frames are trimmed from the top
    assert tb.rstrip().endswith("ValueError: x must be positive")
    assert host.run("add", {"a": 1, "b": 1}) == 2  # the worker survives


def test_chained_exception(make_host):
    host = make_host(adapter=TOOLS)
    _, info = host.run("chained")
    assert info["type"] == "RuntimeError" and "KeyError: 'missing'" in info["traceback"]


def test_many_calls_in_flight_are_matched_by_id(host):
    n = 500
    host.send_raw(b"".join(frame(host.codec.encode(
        {"type": "call", "id": 1000 + i, "tool": "add", "args": {"a": i, "b": i}})) for i in range(n)))
    answers = {}
    while len(answers) < n:
        msg = host.recv()
        assert msg["type"] == "result"
        answers[msg["id"]] = msg["value"]
    assert answers == {1000 + i: 2 * i for i in range(n)}


def test_unknown_tool(host):
    _, info = host.run("nope")
    assert info["kind"] == "unknown_tool" and info["details"]["tool"] == "nope"
    assert "ping" in info["details"]["available"] and "add" in info["details"]["available"]


def test_invalid_arguments(host):
    _, info = host.run("add", {"a": 1, "c": 2})
    assert info["kind"] == "invalid_arguments"
    assert info["details"]["signature"] == "add(a: float, b: float) -> float"
    assert "unexpected argument 'c'" in info["details"]["problem"]
    _, info = host.run("add", {"a": 1})
    assert "missing required argument 'b'" in info["details"]["problem"]


def test_stream_tool_without_stream_flag_is_invalid(host):
    _, info = host.run("count", {"n": 3})
    assert info["kind"] == "invalid_arguments" and "stream" in info["message"]


def test_result_that_cannot_be_encoded(make_host):
    host = make_host(adapter=TOOLS)
    _, info = host.run("bad_result")
    assert info["kind"] == "serialization"
    assert info["details"] == {"path": "result.rows[2].when", "python_type": "lock"}
    assert host.run("finally_count") == 0


def test_result_above_the_frame_limit(make_host):
    host = make_host(adapter=TOOLS, max_frame_bytes=16384)
    _, info = host.run("blob", {"n": 20000})
    assert info["kind"] == "payload_too_large"
    assert info["details"]["limit"] == 16384 and info["details"]["size"] > 20000
    assert host.run("blob", {"n": 100}) == b"x" * 100


def test_error_message_with_a_lone_surrogate(make_host):
    host = make_host(adapter=TOOLS)
    _, info = host.run("surrogate_error")
    assert info["type"] == "ValueError" and info["message"] == "bad \ud800 text"  # exactly (a str tag)


def test_printing_does_not_touch_the_channel(make_host):
    host = make_host(adapter=TOOLS)
    assert host.run("printer", {"lines": 2000}) == "printed"
    assert host.run("finally_count") == 0
    deadline = time.monotonic() + 5
    while "stdout line 1999" not in host.out() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "stdout line 1999" in host.out() and "stderr line 1999" in host.err()


def test_logging_is_forwarded(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("log_something", {"text": "abc"})
    others = []
    msg, _ = host.wait(call_id, others=others)
    assert msg["value"] == "logged"
    logs = [m for m in others if m["type"] == "log"]
    assert [(m["level"], m["logger"], m["message"], m["call"]) for m in logs] == [
        ("info", "fixture", "info: abc", call_id), ("warning", "fixture", "warning: abc", call_id)]
    assert "warning: abc" not in host.err()  # forwarded, not duplicated to stderr


def test_telemetry_events(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("emit_event", correlation_id="corr-9")
    others = []
    host.wait(call_id, others=others)
    events = [m for m in others if m["type"] == "event"]
    assert [e["name"] for e in events] == [["fixture", "measured"], ["fixture", "work", "start"],
                                           ["fixture", "work", "stop"]]
    assert events[0]["measurements"] == {"value": 1.5} and events[0]["metadata"] == {"tag": "x"}
    assert all(e["correlation_id"] == "corr-9" for e in events)
    assert events[2]["measurements"]["duration"] >= 0


def test_session_context_per_call(make_host):
    host = make_host(adapter=TOOLS)
    trace = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    info = host.run("ctx_info", session="sess-1", correlation_id="corr-1", trace=trace, timeout_ms=5000)
    assert info["session_id"] == "sess-1" and info["correlation_id"] == "corr-1"
    assert info["trace"] == trace and info["telemetry_cid"] == "corr-1"
    assert 0 < info["remaining"] <= 5.0
    info = host.run("ctx_info")
    assert info["session_id"] is None and info["remaining"] is None


def test_execute_tool_adapter(make_host):
    host = make_host(adapter="fixture_adapters:ExecuteToolAdapter")
    assert host.ready["tools"] == []
    assert host.run("describe", {"x": 1}, session="s") == {
        "tool": "describe", "arguments": {"x": 1}, "session": "s", "attribute": True}
    _, info = host.run("other")
    assert info["type"] == "ValueError"


def test_async_execute_tool_adapter(make_host):
    host = make_host(adapter="fixture_adapters:AsyncExecuteToolAdapter")
    assert host.run("anything", {"k": [1]}, session="s2") == {"tool": "anything", "session": "s2",
                                                              "args": {"k": [1]}}
    assert host.run("coroutine_from_sync") == "from a coroutine"


def test_sync_tool_returning_a_coroutine(make_host):
    host = make_host(adapter=TOOLS)
    assert host.run("returns_coroutine", {"value": {"x": 1}}) == {"x": 1}


def test_ping_frames(host):
    for i in range(3):
        host.send({"type": "ping", "id": i})
        assert host.recv() == {"type": "pong", "id": i}


def test_sync_and_async_tools_in_one_adapter(make_host):
    host = make_host(adapter=TOOLS)
    assert host.run("async_echo", {"value": [1, 2]}) == [1, 2]


# ------------------------------------------------------------------------------- process exits

def test_system_exit_in_a_tool_ends_the_process(make_host):
    host = make_host(adapter=TOOLS)
    host.call("exit_now", {"code": 7})
    assert host.exit_code() == 7


def test_undecodable_frame_exits_4(host):
    host.send_raw(frame(b"\xc1garbage that no codec accepts"))
    assert host.exit_code() == 4
    assert "protocol error" in host.err()


def test_unknown_message_type_exits_4(host):
    host.send({"type": "bogus", "id": 1})
    assert host.exit_code() == 4
    assert "bogus" in host.err()


def test_oversized_frame_from_the_host_exits_4(make_host):
    host = make_host(max_frame_bytes=8192)
    host.send_raw(struct.pack(">I", 8193))
    assert host.exit_code() == 4


def _run_bridge(*args):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, "-m", "snakepit_bridge", *args], env=env, capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args,message", [
    ((), "--adapter"),
    (("--adapter", "nocolon"), "module:Class"),
    (("--adapter", "m:C", "--codec", "xml"), "invalid choice"),
    (("--adapter", "m:C", "--channel-fd", "97"), "not an open socket"),
    (("--adapter", "m:C", "--channel-fd", "0"), "not an open socket"),
])
def test_bad_command_lines_exit_2(args, message):
    proc = _run_bridge(*args)
    assert proc.returncode == 2 and message in proc.stderr


def test_json_only_worker_offers_only_json(make_host):
    host = make_host(codec="json", args=("--codec", "json"))
    assert host.hello["codecs"] == ["json"]
    assert host.run("add", {"a": 1, "b": 2}) == 3


def test_adapter_given_with_a_dot(make_host):
    host = make_host(adapter="snakepit_bridge.adapters.showcase.ShowcaseAdapter")
    assert host.ready["adapter"] == "snakepit_bridge.adapters.showcase:ShowcaseAdapter"
