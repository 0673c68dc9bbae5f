"""End to end: cancel of sync and async calls, async concurrency, the reader answering while a tool runs."""

from __future__ import annotations

import time

TOOLS = "fixture_adapters:ToolsAdapter"
ASYNC = "fixture_adapters:AsyncAdapter"


def cancel_after(host, call_id, delay, reason="abort"):
    time.sleep(delay)
    host.send({"type": "cancel", "id": call_id, "reason": reason})
    return time.monotonic()


def test_cancel_interrupts_a_sleeping_sync_tool(host):
    call_id = host.call("sleep", {"seconds": 5})
    sent = cancel_after(host, call_id, 0.2, "timeout")
    msg, _ = host.wait(call_id)
    assert msg["type"] == "error" and msg["error"]["kind"] == "cancelled"
    assert msg["error"]["details"] == {"reason": "timeout"}
    assert time.monotonic() - sent < 0.5  # well before the sleep would end
    assert host.run("ping")["status"] == "ok"  # and the worker goes on


def test_cancel_interrupts_pure_python_code(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("spin", {"seconds": 10})
    sent = cancel_after(host, call_id, 0.2)
    msg, _ = host.wait(call_id)
    assert msg["error"]["kind"] == "cancelled" and time.monotonic() - sent < 0.5
    assert host.run("finally_count") == 0


def test_cancel_of_a_queued_call_answers_at_once(host):
    sleep_id = host.call("sleep", {"seconds": 0.6})
    add_id = host.call("add", {"a": 1, "b": 2})
    started = time.monotonic()
    host.send({"type": "cancel", "id": add_id, "reason": "abort"})
    msg = host.recv()
    assert msg["id"] == add_id and msg["error"]["kind"] == "cancelled"
    assert time.monotonic() - started < 0.3  # not behind the sleep
    msg, _ = host.wait(sleep_id)
    assert msg["value"] == 0.6
    assert host.run("add", {"a": 2, "b": 2}) == 4


def test_cancel_of_an_unknown_or_finished_call_is_ignored(host):
    call_id = host.call("add", {"a": 1, "b": 1})
    assert host.wait(call_id)[0]["value"] == 2
    host.send({"type": "cancel", "id": call_id, "reason": "abort"})
    host.send({"type": "cancel", "id": 12345, "reason": "abort"})
    host.send({"type": "ping", "id": 1})
    assert host.recv() == {"type": "pong", "id": 1}  # no second terminal frame came first


def test_a_tool_that_swallows_the_cancel_still_gets_one_terminal_frame(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("stubborn", {"seconds": 0.5})
    cancel_after(host, call_id, 0.1)
    msg, _ = host.wait(call_id)
    assert msg["type"] == "result" and msg["value"] == "survived"  # the call finished first
    host.send({"type": "ping", "id": 2})
    assert host.recv() == {"type": "pong", "id": 2}


def test_ping_is_answered_while_a_sync_tool_runs(host):
    call_id = host.call("sleep", {"seconds": 1.0})
    time.sleep(0.1)
    started = time.monotonic()
    host.send({"type": "ping", "id": 77})
    assert host.recv() == {"type": "pong", "id": 77}
    assert time.monotonic() - started < 0.3
    assert host.wait(call_id)[0]["value"] == 1.0


def test_async_tools_run_concurrently(make_host):
    host = make_host(adapter=ASYNC)
    assert host.run("asleep", {"seconds": 0.01}) == 0.01  # start the event loop
    started = time.monotonic()
    first = host.call("asleep", {"seconds": 0.3})
    second = host.call("asleep", {"seconds": 0.3})
    assert host.wait(first)[0]["value"] == 0.3 and host.wait(second)[0]["value"] == 0.3
    assert time.monotonic() - started < 0.55


def test_async_tools_run_while_the_main_thread_is_busy(make_host):
    host = make_host(adapter=ASYNC)
    sync_id = host.call("sleep", {"seconds": 0.8})
    time.sleep(0.05)
    async_id = host.call("asleep", {"seconds": 0.05})
    msg = host.recv()
    assert msg["id"] == async_id and msg["value"] == 0.05
    assert host.wait(sync_id)[0]["value"] == 0.8


def test_session_context_is_right_in_concurrent_async_calls(make_host):
    host = make_host(adapter=ASYNC)
    ids = {host.call("whoami", {"pause": 0.1}, session="s-%d" % i): "s-%d" % i for i in range(20)}
    for call_id, session in ids.items():
        assert host.wait(call_id)[0]["value"] == session


def test_cancel_an_async_tool(make_host):
    host = make_host(adapter=ASYNC)
    call_id = host.call("asleep", {"seconds": 5})
    sent = cancel_after(host, call_id, 0.2)
    msg, _ = host.wait(call_id)
    assert msg["error"]["kind"] == "cancelled" and time.monotonic() - sent < 0.5
    assert host.run("asleep", {"seconds": 0}) == 0


def test_cancel_right_after_an_async_call_is_sent(make_host):
    host = make_host(adapter=ASYNC)
    for _ in range(20):
        call_id = host.call("asleep", {"seconds": 1})
        host.send({"type": "cancel", "id": call_id, "reason": "abort"})
        msg, _ = host.wait(call_id)
        assert msg["error"]["kind"] == "cancelled"


def test_async_exceptions_and_initialize_loop(make_host):
    host = make_host(adapter=ASYNC)
    _, info = host.run("afail")
    assert info["type"] == "ValueError" and "async failure" in info["traceback"]
    assert host.run("same_loop") is True  # async initialize() ran on the tools' loop


def test_system_exit_in_an_async_tool_ends_the_process(make_host):
    host = make_host(adapter=ASYNC)
    host.call("aexit", {"code": 5})
    assert host.exit_code() == 5
