"""Leaving with the host: a worker never outlives the program that started it.

Four independent signs say the host is gone; each covers what the others miss:

  1. end of file on the channel: the reader thread sees it as soon as the host exits or dies (``Reader._eof``);
  2. on Linux, the kernel's parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), armed before anything
     else runs. It needs no Python code, so it works even while a tool holds the GIL in C code;
  3. a watchdog thread that sees the parent pid change, or the host pid (``SNAKEPIT_HOST_PID``) vanish: every
     platform, and a host that died before (2) was armed;
  4. the host's heartbeats (``welcome.heartbeat``): the host pings every ``interval_ms``; a worker that has heard
     nothing at all for ``timeout_ms`` — a frozen host, a socket someone else keeps open — leaves with exit code 5.

Leaving, a worker stops what it started (``stop_own_tree``): the rest of its process group if it leads one (as
under the Node host), and on Linux every process that carries its marker — ``SNAKEPIT_RUN_ID`` and
``SNAKEPIT_WORKER_ID`` in an environment inherited from it — wherever that went: a new session, its own process
group, a double-forked daemon. The host does the same when a worker ends (src/limits/containment.ts), so a worker
killed before it could do it is covered too.

``SNAKEPIT_PARENT_WATCH=0`` in the worker's environment turns (2) and (3) off — for debugging a worker after its
host died, and for the test that proves the next start sweeps such a worker (docs/RELIABILITY.md).
"""

from __future__ import annotations

import os
import select
import _signal as signal  # the C module under signal.py, which builds its enums (~2 ms of a cold start)
import sys
import threading
import time

from ..channel.shm import SHARED

__all__ = ["Lifeline", "EXIT_HOST_SILENT", "stop_own_tree"]

EXIT_HOST_SILENT = 5
CHECK_S = 0.5  # how often the watchdog looks
PR_SET_PDEATHSIG = 1
# What every process this worker starts inherits, as /proc/<pid>/environ shows it (read at start-up, before the
# adapter could change os.environ).
_ENVB = getattr(os, "environb", {})  # POSIX only


_MARKER = ()
_MARKED = False


def _read_marker() -> None:
    """Note the marker; again in ``Lifeline.arm``, as a worker forked by its pool's template (template.py) sets
    its own SNAKEPIT_WORKER_ID after the fork."""
    global _MARKER, _MARKED
    _MARKER = tuple(b"%s=%s" % (name, _ENVB.get(name, b"")) for name in (b"SNAKEPIT_RUN_ID", b"SNAKEPIT_WORKER_ID"))
    _MARKED = all(not entry.endswith(b"=") for entry in _MARKER)


_read_marker()


class Lifeline:
    """The watchdog's state. ``heard()`` is called by the reader thread for every read from the host."""

    def __init__(self, channel_fd: int, watch_parent_pid: bool = True) -> None:
        self.channel_fd = channel_fd
        self.parent = os.getppid()
        self.host_pid = _int_env("SNAKEPIT_HOST_PID")
        self.watch_parent = os.environ.get("SNAKEPIT_PARENT_WATCH") != "0"
        # A worker forked by its pool's template (template.py) has the template as its parent, which may end
        # before it does: it watches the host's pid, not its parent's (and has no parent-death signal).
        self.watch_parent_pid = watch_parent_pid
        self.pdeathsig = False
        self.timeout_s = None  # host heartbeats expected: leave after this much silence
        self.last_heard = time.monotonic()
        self._thread = None

    def arm(self) -> None:
        """Arm the parent-death signal and check the host is still there; call first thing in the process."""
        _read_marker()
        if not self.watch_parent:
            self.host_pid = None
        self.pdeathsig = self.watch_parent and self.watch_parent_pid and _set_parent_death_signal()
        if self.host_pid is not None and not _pid_exists(self.host_pid):
            leave(0, "the host is already gone")  # it died before we could arm anything
        self._thread = threading.Thread(target=self._watch, name="snakepit-lifeline", daemon=True)
        self._thread.start()

    def attach(self, channel_fd: int) -> None:
        """A lifeline armed before its worker was known (a pool template's spare, template.py): the channel it
        serves, and the worker's marker (its SNAKEPIT_WORKER_ID is set now)."""
        self.channel_fd = channel_fd
        _read_marker()

    def expect_heartbeats(self, timeout_ms) -> None:
        """From now on, leave when the host has been silent for ``timeout_ms`` (None: never)."""
        self.last_heard = time.monotonic()
        if isinstance(timeout_ms, (int, float)) and not isinstance(timeout_ms, bool) and timeout_ms > 0:
            self.timeout_s = timeout_ms / 1000.0

    def heard(self) -> None:
        self.last_heard = time.monotonic()

    def _watch(self) -> None:
        last_check = time.monotonic()
        while True:
            time.sleep(CHECK_S)
            now = time.monotonic()
            if now - last_check > 4 * CHECK_S:
                self.last_heard = now  # we were stopped or starved, not the host: restart the clock
            last_check = now
            if self.watch_parent and self.watch_parent_pid and os.getppid() != self.parent:
                leave(0, "the host process (parent pid %d) is gone" % self.parent)
            if self.host_pid is not None and not _pid_exists(self.host_pid):
                leave(0, "the host process (pid %d) is gone" % self.host_pid)
            timeout = self.timeout_s
            if timeout is not None and now - self.last_heard > timeout and not self._pending_input():
                leave(EXIT_HOST_SILENT, "no heartbeat from the host for %.1f s (heartbeat.hostTimeoutMs); "
                                        "leaving" % (now - self.last_heard))

    def _pending_input(self) -> bool:
        """Bytes from the host wait unread (the reader is starved, the host is not silent)."""
        try:
            return bool(select.select([self.channel_fd], [], [], 0)[0])
        except (OSError, ValueError):
            return False


def leave(code: int, message, stop_group: bool = True) -> None:
    """End the process now: say why on stderr, stop our process group's other members (unless told not to:
    someone already did), exit with ``code``."""
    if message:
        sys.stderr.write("snakepit_bridge: %s\n" % message)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    if stop_group:
        stop_own_tree()
    SHARED.remove_all()  # os._exit skips atexit: this worker's segments go now
    os._exit(code)


def stop_own_tree() -> None:
    """SIGKILL what this worker started: the other members of our process group (if we lead it) and, on Linux,
    every process started after us that carries our marker.

    Elsewhere only the group can be found: the whole group, this process included, is killed.
    """
    me = os.getpid()
    try:
        leader = os.getpgrp() == me  # not when run by hand or by a test host: that group is not ours to stop
    except OSError:
        leader = False
    if not sys.platform.startswith("linux"):
        if leader:
            try:
                os.killpg(me, signal.SIGKILL)
            except OSError:
                pass
        return
    try:
        entries = os.listdir("/proc")
        since = _stat_fields(me)[19]
    except (OSError, ValueError, IndexError):
        return
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        pid = int(entry)
        try:
            fields = _stat_fields(pid)
            if fields[0] in (b"Z", b"X"):
                continue
            if (leader and int(fields[2]) == me) or (_MARKED and int(fields[19]) >= int(since) and _carries(pid)):
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            continue


def _stat_fields(pid: int) -> list:
    """``/proc/<pid>/stat`` after the command name: state, ppid, pgrp, ... (index 19: the start time)."""
    with open("/proc/%d/stat" % pid, "rb") as f:
        stat = f.read()
    return stat[stat.rindex(b")") + 2:].split()


def _carries(pid: int) -> bool:
    with open("/proc/%d/environ" % pid, "rb") as f:
        entries = f.read().split(b"\0")
    return all(marker in entries for marker in _MARKER)


def _set_parent_death_signal(signum=signal.SIGKILL) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    from .libc import libc_function  # _ctypes without ctypes' own module (libc.py says why)

    prctl = libc_function("prctl")
    try:
        return prctl is not None and prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except Exception:
        return False


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, it is just not ours
        return True
    return True


def _int_env(name: str):
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None
