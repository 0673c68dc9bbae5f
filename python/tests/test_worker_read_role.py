"""End to end: who reads the channel (dispatch/read_role.py, dispatch/watchdog.py).

The main thread reads while it is idle and runs short calls inline; the watchdog reads only while one call
keeps the main thread busy; waits inside a call (host tools, stream credit) read through ``pump_until``.
Each behaviour is checked with and without the post-call poll (``SNAKEPIT_SPIN_US``), which changes how the
main thread reads when idle.
"""

from __future__ import annotations

import threading
import time

import pytest

from fakehost import HostTimeout
from snakepit_bridge.dispatch.read_role import MAIN, WATCHDOG, ReadRole

TOOLS = "fixture_adapters:ToolsAdapter"
ASYNC = "fixture_adapters:AsyncAdapter"
REFS = "fixture_adapters:RefAdapter"
SPINNING = {"SNAKEPIT_SPIN_US": "2000"}  # a long spin, so that frames arrive while the main thread polls


@pytest.fixture(params=["plain", "spinning"])
def mode_env(request) -> dict:
    """The worker's environment without and with the post-call poll."""
    return {"plain": {}, "spinning": SPINNING}[request.param]


def terminal_ids(host, n, timeout=10.0) -> list:
    """The ids of the next ``n`` frames, which must all be terminal frames."""
    ids = []
    for _ in range(n):
        msg = host.recv(timeout)
        assert msg["type"] in ("result", "error"), msg
        ids.append(msg["id"])
    return ids


# ---------------------------------------------------------------------------------------- fast path


def test_lone_calls_with_the_post_call_poll(make_host):
    # Calls one at a time, each arriving while the main thread polls after the previous one (spin 2 ms), then
    # a ping and a batch: all answered, in order, without the watchdog.
    host = make_host(adapter=TOOLS, env=SPINNING)
    before = host.run("read_role")
    for i in range(200):
        assert host.run("blob", {"n": 1 + i % 3}) == b"x" * (1 + i % 3)
    ids = [host.call("blob", {"n": 2}) for _ in range(32)]
    assert sorted(terminal_ids(host, 32)) == ids
    stats = host.run("read_role")
    assert stats["takeovers"] - before["takeovers"] <= 30, (before, stats)


def test_the_post_call_poll_follows_lone_calls_in_a_row_not_one_between_batches(make_host):
    # Under load a lone call and a batch often take turns (the calls in flight travel in two groups): polling
    # after each lone one would burn the spin for nothing. A caller working one call at a time still gets it.
    from snakepit_bridge.channel.framing import frame

    host = make_host(adapter=TOOLS, env=SPINNING)
    before = host.run("read_role")["spins"]
    for round_ in range(20):
        ids = [host.next_id + i for i in range(8)]
        host.next_id += 8
        host.send_raw(b"".join(frame(host.codec.encode({"type": "call", "id": i, "tool": "blob", "args": {"n": 1}}))
                               for i in ids))  # one write: read as one batch of 8
        assert sorted(terminal_ids(host, 8)) == ids
        assert host.run("blob", {"n": 1}) == b"x"  # then one lone call
    between = host.run("read_role")["spins"] - before
    assert between <= 3, between  # none expected; a batch split by the kernel may make a lone pair now and then
    before = host.run("read_role")["spins"]
    for _ in range(20):
        assert host.run("blob", {"n": 1}) == b"x"
    in_a_row = host.run("read_role")["spins"] - before
    assert in_a_row >= 10, in_a_row  # 19 on a quiet machine (the first of the run does not poll)


def test_the_post_call_poll_backs_off_when_it_finds_nothing(make_host):
    # A caller slower than the spin (here 5 ms between calls against a 2 ms spin): each poll would find nothing.
    host = make_host(adapter=TOOLS, env=SPINNING)
    for _ in range(3):
        host.run("blob", {"n": 1})
    before = host.run("read_role")["spins"]
    for _ in range(24):
        time.sleep(0.005)
        assert host.run("blob", {"n": 1}) == b"x"
    slow = host.run("read_role")["spins"] - before
    assert slow <= 8, slow  # polls after 1, 2, 4, 8 skipped chances: about 4-5 of 24 (not 24)
    # Quick calls again: once a poll finds the next call, it polls after every lone call.
    for _ in range(40):
        host.run("blob", {"n": 1})
    before = host.run("read_role")["spins"]
    for _ in range(20):
        host.run("blob", {"n": 1})
    quick = host.run("read_role")["spins"] - before
    assert quick >= 10, quick  # 20 on a quiet machine; a descheduled host makes a poll miss now and then


@pytest.mark.parametrize("value, seconds", [(None, 0.0), ("", 0.0), ("50", 50e-6), ("0", 0.0), ("-5", 0.0),
                                            ("1e9", 0.01), ("nan", 0.0), ("fifty", 0.0)])
def test_spin_setting_is_read_defensively(value, seconds):
    from snakepit_bridge.dispatch.worker import _spin_seconds

    assert _spin_seconds(value) == pytest.approx(seconds)


def test_short_calls_never_wake_the_watchdog(make_host):
    host = make_host(adapter=TOOLS)
    before = host.run("read_role")
    for _ in range(300):
        assert host.run("blob", {"n": 1}) == b"x"
    for _ in range(16):  # 64 in flight at a time
        ids = [host.call("blob", {"n": 2}) for _ in range(64)]
        assert sorted(terminal_ids(host, 64)) == ids
    for _ in range(200):  # busy, but for less than the watchdog's 3 ms
        host.run("spin", {"seconds": 0.0005})
    stats = host.run("read_role")
    # Nobody but the main thread read those 1,524 calls, unless the machine stopped the worker for milliseconds in
    # the middle of one: on a shared 2-core machine under load that happens to a few percent of them. A watchdog
    # that woke for short calls would hand over on nearly every one, so the bound is a tenth of the calls.
    bound = 1524 // 10
    assert stats["handed"] - before["handed"] <= bound, (before, stats)
    assert stats["takeovers"] - before["takeovers"] <= bound, (before, stats)
    assert stats["handbacks"] - before["handbacks"] <= bound, (before, stats)


# -------------------------------------------------------------------------------------- long calls


def test_a_long_sync_tool_gets_the_watchdog_reading(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("spin", {"seconds": 10})  # pure Python: only the watchdog can read now
    time.sleep(0.2)
    started = time.monotonic()
    host.send({"type": "ping", "id": 7})
    assert host.recv() == {"type": "pong", "id": 7}
    assert time.monotonic() - started < 0.5
    host.send({"type": "cancel", "id": call_id, "reason": "timeout"})  # SIGUSR1 from the watchdog
    msg, _ = host.wait(call_id)
    assert msg["type"] == "error" and msg["error"]["kind"] == "cancelled"
    assert time.monotonic() - started < 1.0
    stats = host.run("read_role")
    assert stats["takeovers"] >= 1  # the watchdog read the ping and the cancel
    for _ in range(40):  # it may read this call too; then it gives the role back once the main thread is idle
        if stats["handbacks"] >= 1:
            break
        time.sleep(0.05)
        stats = host.run("read_role")
    assert stats["handbacks"] >= 1, stats
    assert host.run("blob", {"n": 1}) == b"x"


def test_ping_and_cancel_during_a_long_call(make_host, mode_env):
    host = make_host(adapter=TOOLS, env=mode_env)
    call_id = host.call("spin", {"seconds": 10})
    time.sleep(0.15)
    host.send({"type": "ping", "id": 8})
    assert host.recv(2.0) == {"type": "pong", "id": 8}
    host.send({"type": "cancel", "id": call_id, "reason": "abort"})
    msg, _ = host.wait(call_id, timeout=2.0)
    assert msg["error"]["kind"] == "cancelled"


def test_calls_that_arrive_during_a_long_call_run_after_it_in_order(make_host, mode_env):
    host = make_host(adapter=TOOLS, env=mode_env)
    long_id = host.call("spin", {"seconds": 0.3})
    time.sleep(0.05)  # the watchdog reads what follows
    ids = [host.call("blob", {"n": i}) for i in range(1, 6)]
    assert terminal_ids(host, 6) == [long_id] + ids
    assert host.run("blob", {"n": 2}) == b"xx"  # the main thread reads again


def test_session_end_read_during_a_long_call_keeps_its_place(make_host, mode_env):
    host = make_host(adapter=REFS, env=mode_env)
    assert host.run("remember", {"key": "k", "value": 1}, session="s-1") is None
    pause = host.call("pause", {"seconds": 0.3}, session="s-2")
    time.sleep(0.05)
    host.send({"type": "session_end", "session": "s-1"})
    listing = host.call("state_sessions", session="s-2")
    first, second = host.recv(), host.recv()
    assert (first["id"], second["id"]) == (pause, listing)
    assert second["value"] == []  # the session_end ran before it, as it was sent
    assert "s-1" in host.run("ended_sessions")


def test_async_calls_start_while_a_sync_call_runs(make_host, mode_env):
    host = make_host(adapter=ASYNC, env=mode_env)
    sync_id = host.call("sleep", {"seconds": 0.6})
    time.sleep(0.05)
    async_id = host.call("asleep", {"seconds": 0.01})
    assert host.recv(2.0)["id"] == async_id  # the watchdog started it on the loop
    assert host.wait(sync_id)[0]["value"] == 0.6


# -------------------------------------------------------------------------------- waits in a call


def test_a_host_call_made_after_the_watchdog_took_over(make_host, mode_env):
    host = make_host(adapter=TOOLS, env=mode_env)
    call_id = host.call("call_host_later", {"name": "double", "delay": 0.1})
    hc = host.expect("host_call")
    inner = host.call("blob", {"n": 2})  # runs nested, inside the wait
    assert host.wait(inner)[0]["value"] == b"xx"
    host.send({"type": "ping", "id": 3})
    assert host.recv() == {"type": "pong", "id": 3}
    host.send({"type": "host_result", "id": hc["id"], "value": 42})
    assert host.wait(call_id)[0]["value"] == 42


@pytest.mark.parametrize("adapter,tool,args", [
    (TOOLS, "slow_items", {"n": 6, "pause": 0.01}),  # a generator, busy between chunks
    (REFS, "batch_process", {"items": [1, 2, 3, 4, 5, 6]}),  # stream.send on the main thread
])
def test_a_stream_waiting_for_credit_serves_the_channel_but_runs_no_call(make_host, mode_env, adapter, tool,
                                                                        args):
    host = make_host(adapter=adapter, env=mode_env)
    stream_id = host.call(tool, args, stream=True, window=2)
    for _ in range(2):
        assert host.recv()["type"] == "chunk"
    sync_id = host.call("ended_sessions" if adapter == REFS else "blob", {} if adapter == REFS else {"n": 3})
    host.send({"type": "ping", "id": 4})
    assert host.recv() == {"type": "pong", "id": 4}  # read while the stream waits for credit
    with pytest.raises(HostTimeout):
        msg = host.recv(0.3)  # the sync call waits for the stream: sync calls run one at a time
        pytest.fail("expected nothing while the stream waits, got %r" % (msg,))
    host.send({"type": "credit", "id": stream_id, "n": 100})
    others = []
    msg, chunks = host.wait(stream_id, others=others)
    assert msg["type"] == "result" and len(chunks) >= 4 and others == []
    assert host.wait(sync_id)[0]["type"] == "result"


def test_cancel_of_a_stream_waiting_for_credit(make_host, mode_env):
    host = make_host(adapter=TOOLS, env=mode_env)
    stream_id = host.call("gen_finally", {"n": 100}, stream=True, window=3)
    for _ in range(3):
        assert host.recv()["type"] == "chunk"
    host.send({"type": "cancel", "id": stream_id, "reason": "consumer_stopped"})
    msg, _ = host.wait(stream_id, timeout=2.0)
    assert msg["error"]["kind"] == "cancelled"
    assert host.run("finally_count") == 1


# ---------------------------------------------------------------------------------- the wake-up pipe


def test_work_posted_by_another_thread_wakes_an_idle_main_thread(make_host, mode_env):
    # SystemExit in an async tool is handed to the main thread (Worker.post). With the read role shared the
    # main thread is blocked reading; only the wake-up pipe gets it out: no frame follows this call.
    host = make_host(adapter=ASYNC, env=mode_env)
    assert host.run("asleep", {"seconds": 0}) == 0  # the event loop runs
    started = time.monotonic()
    host.call("aexit", {"code": 6})
    assert host.exit_code(timeout=10) == 6
    assert time.monotonic() - started < 3.0


def test_work_posted_while_the_idle_main_thread_waits_to_trim_its_heap(make_host, mode_env):
    # After a call the main thread waits up to IDLE_TRIM_S for the next frame before trimming its heap
    # (memory.py). A wake-up in that wait (here: SystemExit from a coroutine, posted to the main thread) must
    # send it back to its queue, not into a blocking read: no frame follows these calls.
    host = make_host(adapter=ASYNC, env=mode_env)
    assert host.run("asleep", {"seconds": 0}) == 0  # the event loop runs
    started = time.monotonic()
    host.call("aexit", {"code": 7, "delay": 0.3})
    assert host.run("sleep", {"seconds": 0}) == 0  # a sync call: the main thread then waits to trim
    assert host.exit_code(timeout=10) == 7
    assert time.monotonic() - started < 3.0


def test_end_of_file_read_by_the_watchdog(make_host):
    host = make_host(adapter=TOOLS)
    host.call("spin", {"seconds": 30})
    time.sleep(0.2)  # the watchdog is reading
    started = time.monotonic()
    host.sock.close()
    assert host.exit_code() == 0
    assert time.monotonic() - started < 2.0


# ------------------------------------------------------------------------------------ ReadRole alone


def test_the_role_goes_to_one_thread_at_a_time():
    role = ReadRole()
    role.take_for_main()
    assert role.holder == MAIN and not role.try_take_for_watchdog()
    role.release_main()
    assert role.try_take_for_watchdog() and role.holder == WATCHDOG
    role.release_watchdog()
    assert role.holder is None and role.stats() == {"holder": None, "takeovers": 1, "handbacks": 0, "handed": 0,
                                                    "spins": 0}


def test_the_main_thread_asks_the_watchdog_for_the_role_back():
    import select

    role = ReadRole()
    assert role.try_take_for_watchdog()
    got = threading.Event()

    def main_side():
        role.take_for_main()
        got.set()

    thread = threading.Thread(target=main_side, daemon=True)
    thread.start()
    # The watchdog's poll returns at once: the main thread wrote the wake-up pipe.
    assert select.select([role.wake_fd], [], [], 10.0)[0] == [role.wake_fd]
    role.drain()
    assert role.main_wants and not got.is_set()
    assert not role.try_take_for_watchdog()  # it cannot take it again while the main thread waits
    role.release_watchdog()
    assert got.wait(10.0) and role.holder == MAIN and not role.main_wants
    assert role.stats()["handbacks"] == 1
    assert select.select([role.wake_fd], [], [], 0)[0] == []  # drained
    thread.join(10.0)
