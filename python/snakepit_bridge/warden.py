"""The warden: stops workers whose template is gone when their host dies.

``python -I -S .../snakepit_bridge/warden.py --pool NAME --run-id RUN --host-pid PID`` (run as a script: it imports
nothing of the bridge; the pool and run id are there for whoever reads the process list)

A worker forked by its pool's template (template.py) has the template as its parent, and the template takes it
along when the host dies. Once the template itself has been killed (a fork timeout under load, someone's
``kill``), its workers keep serving but only Python threads watch the host for them (lifeline.py): a worker that
holds the GIL in C code when the host then dies would stay until the C call returns. The host then starts one
warden for those workers: a small process of its own, with the host's parent-death signal, that sits idle until
the host is gone and then SIGKILLs each worker's process group.

The host writes one line per worker on the warden's stdin: ``PID START_TICKS`` (the start time from
``/proc/PID/stat``, so a pid the system reused is never killed), and ``release`` before it closes stdin when the
warden is no longer needed (the pool is closing and stops those workers itself). Signs that the host is gone: end
of file on stdin without ``release``, the parent-death signal (SIGTERM), the parent pid changing. The warden also
leaves by itself once every worker it watches has ended.
"""

from __future__ import annotations

import os
import select
import signal
import sys

CHECK_S = 0.5
PR_SET_PDEATHSIG = 1


def main(argv) -> int:
    host = _host_pid(argv)
    _arm_parent_death_signal()
    warden = Warden()
    signal.signal(signal.SIGTERM, lambda *_args: warden.stop_all())
    if host is not None and os.getppid() != host:  # the host died before the signal was armed
        warden.stop_all()
    parent = os.getppid()
    while True:
        try:
            ready = select.select([0], [], [], CHECK_S)[0]
        except InterruptedError:
            ready = []
        if ready and not warden.read():
            warden.stop_all()  # the host is gone: its end of the pipe closed with it
        if warden.released:
            return 0
        if os.getppid() != parent:
            warden.stop_all()
        if warden.all_ended():
            return 0


class Warden:
    def __init__(self) -> None:
        self.watched = {}  # pid -> start ticks
        self.seen = False  # a worker's line came: from then on, an empty table means every one of them ended
        self.released = False
        self.inbox = b""

    def read(self) -> bool:
        """Read what the host wrote; False at end of file."""
        try:
            data = os.read(0, 4096)
        except OSError:
            return False
        if not data:
            return False
        self.inbox += data
        while b"\n" in self.inbox:
            line, self.inbox = self.inbox.split(b"\n", 1)
            words = line.split()
            if words == [b"release"]:
                self.released = True
            elif len(words) == 2 and words[0].isdigit() and words[1].isdigit():
                self.watched[int(words[0])] = int(words[1])
                self.seen = True
        if len(self.inbox) > 4096:
            self.inbox = b""
        return True

    def all_ended(self) -> bool:
        for pid, ticks in list(self.watched.items()):
            if _start_ticks(pid) != ticks:
                del self.watched[pid]  # ended (or reaped and its pid reused)
        return self.seen and not self.watched

    def stop_all(self) -> None:
        """The host is gone: SIGKILL every worker still watched, and leave."""
        # What the host wrote before it died is still in the pipe (a warden started just before its host's death
        # has not read it yet): read it first.
        try:
            while select.select([0], [], [], 0)[0] and self.read():
                pass
        except (OSError, ValueError):
            pass
        if not self.released:
            for pid, ticks in list(self.watched.items()):
                if _start_ticks(pid) == ticks:
                    for target in (-pid, pid):  # its group (it leads one), and itself should it have left it
                        try:
                            os.kill(target, signal.SIGKILL)
                        except OSError:
                            pass
        os._exit(0)


def _host_pid(argv):
    for i in range(len(argv) - 1):
        if argv[i] == "--host-pid" and argv[i + 1].isdigit():
            return int(argv[i + 1])
    return None


def _start_ticks(pid: int):
    """Start time of a live (non-zombie) process, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2:].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


def _arm_parent_death_signal() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except Exception:
        pass  # the end of file on stdin and the parent pid watch still work


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
