"""The warden (snakepit_bridge/warden.py), run as the host runs it: a script whose stdin is a pipe from its host.

Each case gives it a victim (a process in a session of its own, as a forked worker is) and ends its stdin in one of
the ways a host can: gone (end of file), done (``release``), or with a start time that no longer matches (a reused
pid). Linux only: the start time comes from /proc.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

WARDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "snakepit_bridge", "warden.py")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warden runs on Linux only")


def _victim():
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)


def _ticks(pid: int) -> int:
    with open("/proc/%d/stat" % pid, "rb") as f:
        stat = f.read()
    return int(stat[stat.rindex(b")") + 2:].split()[19])


def _entry(proc, ticks_off: int = 0) -> bytes:
    """The line the host gives the warden for a worker: its pid and start time (``ticks_off``: another process's)."""
    return b"%d %d\n" % (proc.pid, _ticks(proc.pid) + ticks_off)


def _warden():
    return subprocess.Popen([sys.executable, "-I", "-S", WARDEN, "--pool", "p", "--run-id", "test",
                             "--host-pid", str(os.getpid())], stdin=subprocess.PIPE)


def _gone_within(proc, seconds: float) -> bool:
    try:
        proc.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture
def pair():
    """A victim and a warden, both killed and reaped at the end whatever the test left."""
    victim, warden = _victim(), _warden()
    yield victim, warden
    for proc in (victim, warden):
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_the_host_gone_its_workers_are_killed_group_and_all(pair):
    victim, warden = pair
    warden.stdin.write(_entry(victim))
    warden.stdin.flush()
    time.sleep(0.2)
    assert victim.poll() is None  # idle while the host is there
    warden.stdin.close()  # the host's end closes: it died
    assert _gone_within(victim, 5)
    assert victim.returncode == -9
    assert _gone_within(warden, 5)


def test_the_host_gone_before_it_read_its_lines_its_workers_are_killed_still(pair):
    victim, warden = pair
    # Written and closed at once: the end of file is there with the lines, before the warden reads anything.
    warden.stdin.write(_entry(victim))
    warden.stdin.close()
    assert _gone_within(victim, 5)
    assert _gone_within(warden, 5)


def test_released_it_leaves_without_killing(pair):
    victim, warden = pair
    warden.stdin.write(_entry(victim) + b"release\n")
    warden.stdin.close()
    assert _gone_within(warden, 5)
    assert warden.returncode == 0
    assert victim.poll() is None


def test_a_pid_whose_start_time_differs_is_not_killed(pair):
    victim, warden = pair
    warden.stdin.write(_entry(victim, ticks_off=1))  # another process, once, had this pid
    warden.stdin.flush()
    time.sleep(0.2)
    warden.stdin.close()
    assert _gone_within(warden, 5)
    assert victim.poll() is None


def test_it_leaves_by_itself_once_its_workers_ended(pair):
    victim, warden = pair
    warden.stdin.write(_entry(victim))
    warden.stdin.flush()
    time.sleep(0.2)
    victim.kill()
    victim.wait()
    assert _gone_within(warden, 5)
    assert warden.returncode == 0
