"""The Ray actor a worker runs in: an ordinary worker process (``python -m snakepit_bridge``) as its child.

    driver ── write(bytes) ──► actor ── sendall ──► socket pair ──► worker (python -m snakepit_bridge)
    driver ◄── read() items ◄── streaming generator ◄── relay's outbound loop ◄┘   (channel bytes, output, exit)

The actor only moves the channel's bytes: the worker is the very process a local host spawns, so calls,
cancellation, streams with credit, sessions, references and host calls behave as they do locally. The worker
leaves when its channel reaches end of file, which is what happens when this actor's process dies.
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import socket
import threading

from ..remote.child import WorkerChild
from ..remote.relay import WorkerChannelHandler

__all__ = ["WorkerActor"]

_MAX_ITEM_BYTES = 4 * 1024 * 1024  # one read() item carries at most about this much channel data


class _Out:
    """What the relay's outbound loop yields (the gRPC ChannelOut's fields)."""

    def __init__(self, data=b"", stdout=(), stderr=()):
        self.data = data
        self.stdout = list(stdout)
        self.stderr = list(stderr)
        self.exit = _Exit()


class _Exit:
    def __init__(self):
        self.code = None
        self.signal = ""
        self.pid = 0


class WorkerActor:
    """One pool worker. ``spec``: adapter, worker_id, pool, run_id, codec, env (checked by the driver)."""

    def __init__(self, spec: dict) -> None:
        env = dict(spec.get("env") or {})
        if env.get("PYTHONPATH"):  # the pool's pythonPath, after the bridge this actor imported
            bridge_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            env["PYTHONPATH"] = os.pathsep.join((bridge_dir, env["PYTHONPATH"]))
        import ray

        ctx = ray.get_runtime_context()  # where it runs, for the worker's tools (docs/DISTRIBUTED.md)
        env["SNAKEPIT_RAY_NODE_ID"] = ctx.get_node_id()
        env["SNAKEPIT_RAY_ACTOR_ID"] = ctx.get_actor_id() or ""
        self.child = WorkerChild(spec["adapter"], spec["worker_id"], spec["pool"], spec["run_id"], spec["codec"],
                                 env=env)
        self.items: queue.Queue = queue.Queue()
        relay = WorkerChannelHandler({"ChannelOut": _Out}, spec["adapter"], spec["codec"], 1, lambda _m: None)
        threading.Thread(target=self._pump, args=(relay,), daemon=True, name="snakepit-actor-out").start()

    def _pump(self, relay) -> None:
        try:
            for out in relay._outbound(self.child):
                item = {"data": bytes(out.data), "stdout": out.stdout, "stderr": out.stderr}
                if out.exit.code is not None:
                    item["exit"] = {"code": out.exit.code, "signal": out.exit.signal or None}
                self.items.put(item)
        finally:
            self.items.put(None)

    async def info(self) -> dict:
        import ray

        ctx = ray.get_runtime_context()
        return {"pid": os.getpid(), "worker_pid": self.child.pid, "node_id": ctx.get_node_id(),
                "node_ip": ray.util.get_node_ip_address(), "actor_id": ctx.get_actor_id()}

    async def read(self):
        """The worker's output as it comes: dicts of channel ``data``, ``stdout``/``stderr`` lines, last ``exit``."""
        loop = asyncio.get_running_loop()
        while True:
            item = await loop.run_in_executor(None, self.items.get)
            if item is None:
                return
            # What else is ready goes in the same item: a busy worker's frames travel several to an item.
            while "exit" not in item and len(item["data"]) < _MAX_ITEM_BYTES:
                try:
                    more = self.items.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self.items.put(None)
                    break
                item = {"data": item["data"] + more["data"], "stdout": item["stdout"] + more["stdout"],
                        "stderr": item["stderr"] + more["stderr"], **({"exit": more["exit"]} if "exit" in more else {})}
            yield item

    async def write(self, data: bytes) -> None:
        """Channel bytes for the worker, in the order the driver sends them (one write at a time)."""
        await asyncio.get_running_loop().run_in_executor(None, self.child.sock.sendall, data)

    async def end_input(self) -> None:
        """The host closed its side of the channel: the worker reads end of file and leaves."""
        try:
            self.child.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    async def signal(self, name: str) -> None:
        """Signal the worker's process group (SIGTERM, SIGKILL …); quiet if it is gone."""
        if name not in ("SIGTERM", "SIGKILL", "SIGINT"):
            return
        try:
            os.killpg(self.child.pid, getattr(signal, name))
        except OSError:
            pass
