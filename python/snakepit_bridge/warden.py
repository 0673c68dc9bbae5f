"""The warden: stops workers whose template is gone when their host dies.

``python .../snakepit_bridge/warden.py --run-id RUN`` (run as a script: it imports nothing of the bridge)

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
    parent = os.getppid()
    _arm_parent_death_signal()
    watched = {}  # pid -> start ticks
    seen = False  # a worker's line came: from then on, an empty table means every one of them ended

    def stop_all(*_args) -> None:
        for pid, ticks in list(watched.items()):
            if _start_ticks(pid) == ticks:
                for target in (-pid, pid):  # its group (it leads one), and itself should it have left it
                    try:
                        os.kill(target, signal.SIGKILL)
                    except OSError:
                        pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop_all)
    if os.getppid() != parent or parent == 1:  # the host died before the signal was armed
        stop_all()
    inbox = b""
    while True:
        try:
            ready = select.select([0], [], [], CHECK_S)[0]
        except InterruptedError:
            ready = []
        if ready:
            data = os.read(0, 4096)
            if not data:
                stop_all()  # the host is gone: its end of the pipe closed with it
            inbox += data
            while b"\n" in inbox:
                line, inbox = inbox.split(b"\n", 1)
                words = line.split()
                if words == [b"release"]:
                    return 0
                if len(words) == 2 and words[0].isdigit() and words[1].isdigit():
                    watched[int(words[0])] = int(words[1])
                    seen = True
            if len(inbox) > 4096:
                inbox = b""
        if os.getppid() != parent:
            stop_all()
        for pid, ticks in list(watched.items()):
            if _start_ticks(pid) != ticks:
                del watched[pid]  # ended (or reaped and its pid reused)
        if seen and not watched:
            return 0


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
