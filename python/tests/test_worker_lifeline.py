"""Leaving with the host: host heartbeats, a host already gone at start, the parent-death signal, and the
adapter's own subprocesses going with the worker (dispatch/lifeline.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from fakehost import FakeHost

LINUX = sys.platform.startswith("linux")


def _running(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _running(pid):
            return True
        time.sleep(0.02)
    return False


def test_worker_leaves_when_host_heartbeats_stop(make_host):
    host = make_host(welcome={"heartbeat": {"interval_ms": 100, "timeout_ms": 600}})
    assert host.run("ping")["status"] == "ok"
    t0 = time.monotonic()
    assert host.exit_code(timeout=10) == 5  # we send nothing more: silence
    assert time.monotonic() - t0 < 5
    assert "no heartbeat from the host" in host.err()


def test_pings_keep_the_worker_alive(make_host):
    # The timeout leaves room for this test process to be descheduled on a loaded machine (a silent gap that long
    # is a dead host to the worker, rightly); the pings go on for longer than it.
    host = make_host(welcome={"heartbeat": {"interval_ms": 100, "timeout_ms": 1500}})
    for i in range(25):  # 2.5 s, well past the timeout
        host.send({"type": "ping", "id": i})
        assert host.expect("pong") == {"type": "pong", "id": i}
        time.sleep(0.1)
    assert host.proc.poll() is None
    assert host.run("ping")["status"] == "ok"


def test_without_heartbeats_a_silent_host_is_not_left(make_host):
    host = make_host()
    time.sleep(1.5)
    assert host.proc.poll() is None


def test_a_host_already_gone_at_start_is_noticed_at_once(codec):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = FakeHost(codec=codec, handshake=False, env={"SNAKEPIT_HOST_PID": str(dead.pid)})
    try:
        assert host.exit_code(timeout=5) == 0
        assert "the host is already gone" in host.err()
    finally:
        host.close()


# The worker under a middle process that the test kills, while the test keeps the channel open: only the
# parent-death detection can tell the worker.
_MIDDLE = ("import subprocess, sys, time\n"
           "p = subprocess.Popen(sys.argv[1:], pass_fds=(3,))\n"
           "print(p.pid, flush=True)\n"
           "time.sleep(60)\n")


def _worker_under_middle(codec, env=None):
    command = [sys.executable, "-c", _MIDDLE, sys.executable, "-m", "snakepit_bridge",
               "--adapter", "snakepit_bridge.adapters.showcase:ShowcaseAdapter"]
    host = FakeHost(codec=codec, command=command, env=env)
    deadline = time.monotonic() + 5
    while not host.out().strip() and time.monotonic() < deadline:
        time.sleep(0.01)
    return host, int(host.out().split()[0])


@pytest.mark.skipif(not LINUX, reason="PR_SET_PDEATHSIG is Linux-only")
def test_parent_death_ends_the_worker_even_with_the_channel_open(codec):
    host, worker = _worker_under_middle(codec)
    try:
        assert host.run("ping")["status"] == "ok"
        os.kill(host.proc.pid, signal.SIGKILL)  # the middle process: the worker's parent
        assert _wait_gone(worker, 2.0), "the worker outlived its parent"
    finally:
        host.close()


@pytest.mark.skipif(not LINUX, reason="checks processes through /proc")
def test_parent_watch_off_keeps_the_worker(codec):
    host, worker = _worker_under_middle(codec, env={"SNAKEPIT_PARENT_WATCH": "0"})
    try:
        assert host.run("ping")["status"] == "ok"
        os.kill(host.proc.pid, signal.SIGKILL)
        time.sleep(1.5)
        assert _running(worker)
        assert host.run("ping")["status"] == "ok"  # still serving over the channel we hold
    finally:
        host.close()  # end of file: now it leaves
        assert _wait_gone(worker, 5.0)


@pytest.mark.skipif(not LINUX, reason="group members are found through /proc")
def test_end_of_file_takes_the_adapters_subprocesses_along(make_host):
    host = make_host(adapter="fixture_adapters:SpawningAdapter", new_session=True)
    child = host.run("child_pid")
    assert _running(child)
    host.close()
    assert _wait_gone(child, 3.0), "the adapter's subprocess outlived its worker"


@pytest.mark.skipif(not LINUX, reason="checks processes through /proc")
def test_not_leading_a_group_leaves_other_processes_alone(make_host):
    host = make_host(adapter="fixture_adapters:SpawningAdapter")  # same group as pytest: not ours
    child = host.run("child_pid")
    host.close()
    try:
        time.sleep(0.3)
        assert _running(child)
        assert _running(os.getpid())
    finally:
        os.kill(child, signal.SIGKILL)


@pytest.mark.skipif(not LINUX, reason="marked processes are found through /proc")
def test_leaving_takes_along_what_carries_the_marker_and_nothing_else(make_host):
    marker = {"SNAKEPIT_RUN_ID": "lifeline%d" % os.getpid(), "SNAKEPIT_WORKER_ID": "w-1"}
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    older = subprocess.Popen(sleeper, env={**os.environ, **marker})  # same marker, but older than the worker
    # Start times are in clock ticks (1/100 s) and the worker takes whatever started in its own tick for a
    # descendant: start it a few ticks later.
    time.sleep(0.05)
    host = make_host(adapter="fixture_adapters:SpawningAdapter", env=marker,
                     welcome={"heartbeat": {"interval_ms": 100, "timeout_ms": 600}})
    sibling = subprocess.Popen(sleeper, env={**os.environ, **marker, "SNAKEPIT_WORKER_ID": "w-2"})  # another worker's
    try:
        escapee = host.run("escapee_pid")  # a new session: not in the worker's group
        child = host.run("child_pid")  # pytest's group: not the worker's either
        assert host.exit_code(timeout=10) == 5  # the host fell silent: the worker leaves...
        assert _wait_gone(escapee, 3.0), "a subprocess in a new session outlived its worker"
        assert _wait_gone(child, 3.0)
        assert _running(older.pid) and _running(sibling.pid)  # ...and takes nothing that is not its own
    finally:
        for proc in (older, sibling):
            proc.kill()
            proc.wait()
