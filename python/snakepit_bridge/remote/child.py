"""One worker process behind a gRPC front: ``python -m snakepit_bridge`` on one end of a socket pair.

A remote worker is the very process a local host would spawn; the gRPC front only moves its channel's bytes
and its output. That keeps every rule of the local worker (its threads, cancellation by signal, leaving with
its parent, exit codes) and isolates streams from each other: a tool that crashes takes one worker with it,
not the endpoint.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from .worker_env import inherited_env

__all__ = ["WorkerChild", "signal_name"]


class WorkerChild:
    """A spawned worker and the host's end of its channel.

    Args:
        adapter: ``module:Class``.
        worker_id, pool, run_id: echoed by the worker (``--worker-id`` …), as the host named them.
        codec: ``auto``, ``msgpack`` or ``json``.
        env: extra environment variables.
    """

    def __init__(self, adapter: str, worker_id: str, pool: str, run_id: str, codec: str, env=None) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock = parent
        args = [sys.executable, "-m", "snakepit_bridge", "--adapter", adapter, "--channel-fd", str(child.fileno()),
                "--codec", codec]
        for flag, value in (("--worker-id", worker_id), ("--pool", pool), ("--run-id", run_id)):
            if value:
                args += [flag, value]
        child_env = inherited_env(os.environ)  # the server's secrets (its token) stay in the server
        child_env.pop("SNAKEPIT_HOST_PID", None)  # our parent is this server, not a Node host
        child_env["PYTHONUNBUFFERED"] = "1"
        bridge_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        child_env["PYTHONPATH"] = os.pathsep.join(p for p in (bridge_dir, child_env.get("PYTHONPATH")) if p)
        child_env.update(env or {})
        try:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=(child.fileno(),), env=child_env, start_new_session=True, close_fds=True)
        finally:
            child.close()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL the worker's process group (its adapter's subprocesses too); quiet if already gone."""
        if self.proc.returncode is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            try:
                self.proc.kill()
            except OSError:
                pass

    def wait(self, timeout: float):
        """The exit status after at most ``timeout`` seconds (killing it then), as ``(code, signal name)``."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.wait()
        if code < 0:
            return -1, signal_name(-code)
        return code, ""

    def close(self) -> None:
        self.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except Exception:
                pass
        try:
            self.sock.close()
        except OSError:
            pass


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "SIG%d" % number
