"""The Ray driver: the one process through which a pool reaches its Ray actors (``python -m snakepit_bridge.ray.driver``).

The host spawns it with a socket on fd 3 and talks to it in small frames, each naming a worker by number::

    frame = length (u32, payload bytes) | type (u8) | worker (u32) | payload

    host → driver   S spawn (JSON spec)   D channel bytes   E end of input   K kill (JSON {"signal"})
    driver → host   C cluster (JSON, worker 0)   P placed (JSON)   D channel bytes   O output lines (JSON)
                    X exit (JSON {"code", "signal", "lost"})

It connects to the cluster (``ray.init``) in the background and reports ``C`` once: connected, or failed with the
reason (``ray`` not installed, no cluster at the address). Each worker is a non-detached actor owned by this
process: when the host closes the socket (``close()``, or the host died) the driver kills its actors and leaves,
and if the driver itself dies, Ray ends its job and with it every actor it owned. Nothing is left behind.

Per worker, one thread writes (one ``write`` in flight, what arrived meanwhile goes in the next: ordered, and
batched under load) and one reads the actor's streaming generator.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import threading
import traceback

__all__ = ["main"]

HEADER = struct.Struct(">IBI")
MAX_PAYLOAD = 256 * 1024 * 1024
_SIGNALS = ("SIGTERM", "SIGKILL", "SIGINT")
_SPEC_KEYS = {"adapter", "worker_id", "pool", "run_id", "codec", "env", "resources"}


class Driver:
    def __init__(self, sock: socket.socket, settings: dict) -> None:
        self.sock = sock
        self.settings = settings
        self.send_lock = threading.Lock()
        self.lock = threading.Lock()
        self.workers: dict = {}
        self.pending: list = []  # spawn requests that came before the cluster answered
        self.ray = None
        self.actor_class = None
        self.closing = False
        self.closed = threading.Event()

    # ── to the host ──
    def send(self, kind: bytes, worker: int, payload: bytes) -> None:
        with self.send_lock:
            try:
                self.sock.sendall(HEADER.pack(len(payload), kind[0], worker) + payload)
            except OSError:
                pass  # the host is gone: the read loop ends us

    def send_json(self, kind: bytes, worker: int, value) -> None:
        self.send(kind, worker, json.dumps(value).encode())

    # ── the cluster ──
    def connect(self) -> None:
        try:
            import ray
        except ImportError as exc:
            self.send_json(b"C", 0, {"state": "failed", "message":
                "the ray backend needs the Python package `ray` in %s (%s): install it there, e.g. "
                "`pip install 'ray>=2.9'`" % (sys.executable, exc)})
            return
        try:
            from .actor import WorkerActor

            init = dict(self.settings.get("init") or {})
            runtime_env = dict(self.settings.get("runtime_env") or {})
            # The bridge travels with the job, so actors on any node can import it.
            bridge = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            if self.settings.get("ship_bridge", True):
                runtime_env["py_modules"] = list(runtime_env.get("py_modules") or []) + [bridge]
            address = self.settings.get("address")
            ray.init(address=address, namespace=self.settings.get("namespace"), runtime_env=runtime_env,
                     log_to_driver=False, configure_logging=False, **init)
            self.ray = ray
            self.actor_class = ray.remote(WorkerActor)
            nodes = [n["NodeManagerAddress"] for n in ray.nodes() if n.get("Alive")]
            self.send_json(b"C", 0, {"state": "connected", "ray": ray.__version__, "nodes": nodes,
                                     "address": ray.get_runtime_context().gcs_address})
        except Exception as exc:  # no cluster there, a bad runtime_env, …
            self.send_json(b"C", 0, {"state": "failed", "message": "cannot connect to the Ray cluster%s: %s: %s" % (
                " at " + self.settings["address"] if self.settings.get("address") else "", type(exc).__name__,
                str(exc).strip().splitlines()[0] if str(exc).strip() else "")})
            return
        with self.lock:
            pending, self.pending = self.pending, []
        for number, spec in pending:
            self.spawn(number, spec)

    def _connect_and_stay(self) -> None:
        self.connect()
        # A cluster that ray.init started here (address "local", or none found) runs as children armed with a
        # parent-death signal, which Linux sends when the *thread* that started them ends: this one must outlive
        # them, so it waits for the driver's end.
        self.closed.wait()

    def _connect_timeout(self) -> None:
        if self.ray is not None:
            return
        self.send_json(b"C", 0, {"state": "failed", "message": "no answer from the Ray cluster%s within %s s" % (
            " at " + self.settings["address"] if self.settings.get("address") else "",
            self.settings.get("connect_timeout_s") or 60)})

    def spawn(self, number: int, spec: dict) -> None:
        with self.lock:
            if self.ray is None:
                self.pending.append((number, spec))
                return
        worker = Worker(self, number, spec)
        with self.lock:
            self.workers[number] = worker
        worker.start()

    # ── from the host ──
    def serve(self) -> None:
        threading.Thread(target=self._connect_and_stay, daemon=True, name="snakepit-ray-connect").start()
        # ray.init retries an address where no cluster answers for minutes: give up sooner, and say so.
        timer = threading.Timer(float(self.settings.get("connect_timeout_s") or 60), self._connect_timeout)
        timer.daemon = True
        timer.start()
        buf = bytearray()
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            while len(buf) >= HEADER.size:
                length, kind, number = HEADER.unpack_from(buf)
                if length > MAX_PAYLOAD:
                    sys.stderr.write("snakepit ray driver: frame of %d bytes from the host\n" % length)
                    return
                if len(buf) < HEADER.size + length:
                    break
                payload = bytes(buf[HEADER.size:HEADER.size + length])
                del buf[:HEADER.size + length]
                self.handle(bytes([kind]), number, payload)

    def handle(self, kind: bytes, number: int, payload: bytes) -> None:
        if kind == b"S":
            spec = json.loads(payload)
            if not isinstance(spec, dict) or set(spec) - _SPEC_KEYS:
                return
            self.spawn(number, spec)
            return
        with self.lock:
            worker = self.workers.get(number)
            if worker is None:
                if kind == b"K":  # killed before the cluster answered: forget the request
                    self.pending = [(n, s) for n, s in self.pending if n != number]
                    self.send_json(b"X", number, {"code": None, "signal": "SIGKILL"})
                return
        if kind == b"D":
            worker.write(payload)
        elif kind == b"E":
            worker.end_input()
        elif kind == b"K":
            name = json.loads(payload).get("signal")
            if name in _SIGNALS:
                worker.kill(name)

    def close(self) -> None:
        """The host is gone or closed us: every actor goes now."""
        self.closing = True
        with self.lock:
            workers = list(self.workers.values())
        for worker in workers:
            worker.kill("SIGKILL")
        if self.ray is not None:
            try:
                self.ray.shutdown()
            except Exception:
                pass
        self.closed.set()


class Worker:
    """One actor: its writer and reader threads."""

    def __init__(self, driver: Driver, number: int, spec: dict) -> None:
        self.driver = driver
        self.number = number
        self.spec = spec
        self.cond = threading.Condition()
        self.out = bytearray()
        self.eof = False
        self.killed = None
        self.actor = None
        self.done = False

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True, name="snakepit-ray-read-%d" % self.number).start()

    def _run(self) -> None:
        ray = self.driver.ray
        resources = self.spec.get("resources") or {}
        options = {"max_restarts": 0, "max_task_retries": 0, "max_concurrency": 64,
                   "num_cpus": resources.get("num_cpus", 1)}
        for key in ("num_gpus", "memory"):
            if resources.get(key) is not None:
                options[key] = resources[key]
        if resources.get("custom"):
            options["resources"] = resources["custom"]
        spec = {k: self.spec[k] for k in ("adapter", "worker_id", "pool", "run_id", "codec", "env") if k in self.spec}
        exit_info = None
        try:
            self.actor = self.driver.actor_class.options(**options).remote(spec)
            with self.cond:
                self.cond.notify_all()
            threading.Thread(target=self._write_loop, daemon=True, name="snakepit-ray-write-%d" % self.number).start()
            if self.killed:
                raise _Killed()
            info = ray.get(self.actor.info.remote())
            self.driver.send_json(b"P", self.number, info)
            for ref in self.actor.read.options(num_returns="streaming").remote():
                item = ray.get(ref)
                if item["data"]:
                    self.driver.send(b"D", self.number, item["data"])
                if item["stdout"] or item["stderr"]:
                    self.driver.send_json(b"O", self.number, {"stdout": item["stdout"], "stderr": item["stderr"]})
                if "exit" in item:
                    exit_info = item["exit"]
        except _Killed:
            pass
        except Exception as exc:
            if not self.killed:
                exit_info = {"code": None, "signal": None, "lost": _actor_death(exc)}
        self.done = True
        if exit_info is None:
            exit_info = {"code": None, "signal": self.killed or None,
                         "lost": None if self.killed else "the actor's output ended without the worker's exit status"}
        self._free()
        self.driver.send_json(b"X", self.number, exit_info)
        with self.driver.lock:
            self.driver.workers.pop(self.number, None)

    def _free(self) -> None:
        if self.actor is not None:
            try:
                self.driver.ray.kill(self.actor, no_restart=True)
            except Exception:
                pass

    def _write_loop(self) -> None:
        ray = self.driver.ray
        while True:
            with self.cond:
                while not self.out and not self.eof and not self.done:
                    self.cond.wait()
                if self.done:
                    return
                data, self.out = bytes(self.out), bytearray()
                eof = self.eof and not data
            try:
                if data:
                    ray.get(self.actor.write.remote(data))
                elif eof:
                    ray.get(self.actor.end_input.remote())
                    return
            except Exception:
                return  # the actor is gone: the reader reports how

    def write(self, data: bytes) -> None:
        with self.cond:
            self.out += data
            self.cond.notify_all()

    def end_input(self) -> None:
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def kill(self, name: str) -> None:
        if name == "SIGKILL":
            self.killed = "SIGKILL"
            with self.cond:
                self.cond.notify_all()
            self._free()
        elif self.actor is not None:
            try:
                self.actor.signal.remote(name)
            except Exception:
                pass


class _Killed(Exception):
    pass


def _actor_death(exc: BaseException) -> str:
    text = str(exc).strip()
    first = next((line for line in text.splitlines() if line.strip()), type(exc).__name__)
    return "the Ray actor died (%s: %s)" % (type(exc).__name__, first[:300])


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    fd = int(args[args.index("--channel-fd") + 1]) if "--channel-fd" in args else 3
    settings = json.loads(os.environ.get("SNAKEPIT_RAY", "{}"))
    sock = socket.socket(fileno=fd)
    driver = Driver(sock, settings)
    try:
        driver.serve()
    except Exception:
        traceback.print_exc()
    finally:
        driver.close()
    os._exit(0)  # Ray's threads do not hold us


if __name__ == "__main__":
    sys.exit(main())
