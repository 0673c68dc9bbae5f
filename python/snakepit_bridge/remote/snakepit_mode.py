"""``python -m snakepit_bridge snakepit --adapter X --port 0 --elixir-address HOST:PORT``: a worker in Snakepit's
style, as a Snakepit host (or a snakepit pool with ``transport: "snakepit"``) starts one.

Start-up, as Snakepit's own Python worker does it:
  1. ping the host's BridgeService at ``--elixir-address`` (``HOST:PORT``, or ``unix:PATH``) until it answers
     (giving up after about a minute);
  2. start the worker process (the adapter) and register its tools with the host (RegisterTools);
  3. bind the server (``--port 0``: any free port) and write the port to ``$SNAKEPIT_READY_FILE`` (a temporary
     name, then a rename), and print ``GRPC_READY:<port>``. With ``$SNAKEPIT_WORKER_SOCKET`` (what a snakepit
     host sets: a path in a directory of its own) the server listens on that Unix socket instead, mode 0600, so
     no other user can call it, and the ready file and the line say ``unix:<path>``;
  4. call the host's Heartbeat every ~2 s for the worker and each session it has seen; after 3 failures in a row
     the host is gone and the worker leaves (``SNAKEPIT_HEARTBEAT_CONFIG={"enabled": false}`` turns this off).
Per call, the host's InitializeSession runs once for each new session (it is idempotent on the host). Host
tools (``call_host_tool``) become the host's ExecuteElixirTool.

Exit codes: 0 after SIGTERM/SIGINT; 1 when the host never answered; 2 for bad arguments or missing packages;
3 when the adapter failed to start; 5 when the host's heartbeats failed; the worker's own code (or signal) when
the worker process died.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time

from ..dispatch.startup import parse_adapter_spec
from . import security
from .serve import server_options, write_ready_file
from .snakepit_values import decode_any, parameter_anys

__all__ = ["main", "HostClient"]

PING_GIVE_UP_S = 60.0
EXIT_HOST_GONE = 5
SOCKET_ENV = "SNAKEPIT_WORKER_SOCKET"


def _log(message: str) -> None:
    sys.stderr.write("snakepit_bridge snakepit: %s\n" % message)
    sys.stderr.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m snakepit_bridge snakepit",
                                     description="Run one worker the way a Snakepit host starts it.")
    parser.add_argument("--adapter", required=True, help="the adapter class, 'module:Class'")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--elixir-address", required=True, metavar="HOST:PORT",
                        help="the host's BridgeService (sessions, heartbeats, host tools); unix:PATH for a Unix "
                             "socket")
    parser.add_argument("--snakepit-run-id", default="", help="the host's run id (marks the process)")
    parser.add_argument("--codec", default="auto", choices=["auto", "msgpack", "json"],
                        help="the codec between this process and its worker process")
    return parser


class HostClient:
    """Calls into the host's BridgeService: ping, tool registration, sessions, heartbeats, host tools."""

    def __init__(self, grpc, messages, address: str) -> None:
        self.grpc = grpc
        self.m = messages
        self.channel = grpc.insecure_channel(address, options=[("grpc.keepalive_time_ms", 10000)])
        self.address = address
        self.sessions = set()
        self._lock = threading.Lock()
        self.failures = 0
        self.beats = 0

    def _unary(self, name: str, request, response: str, timeout: float = 5.0, metadata=None):
        fn = self.channel.unary_unary("/snakepit.bridge.BridgeService/%s" % name,
                                      request_serializer=type(request).SerializeToString,
                                      response_deserializer=self.m[response].FromString)
        return fn(request, timeout=timeout, metadata=metadata)

    def ping_until_up(self, give_up_s: float = PING_GIVE_UP_S) -> bool:
        deadline = time.monotonic() + give_up_s
        delay = 0.05
        while True:
            try:
                self._unary("Ping", self.m["PingRequest"](message="snakepit worker %d" % os.getpid()),
                            "PingResponse", timeout=2.0)
                return True
            except self.grpc.RpcError:
                if time.monotonic() + delay > deadline:
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def register_tools(self, worker_id: str, specs: list) -> None:
        from .snakepit_service import tool_spec

        request = self.m["RegisterToolsRequest"](worker_id=worker_id)
        for spec in specs:
            as_spec = tool_spec(self.m, spec)
            reg = request.tools.add()
            reg.name, reg.description, reg.supports_streaming = (as_spec.name, as_spec.description,
                                                                  as_spec.supports_streaming)
            reg.parameters.extend(as_spec.parameters)
            reg.metadata.update(as_spec.metadata)
        self._unary("RegisterTools", request, "RegisterToolsResponse")

    def session_seen(self, session: str) -> None:
        with self._lock:
            if session in self.sessions:
                return
            self.sessions.add(session)
        try:
            self._unary("InitializeSession", self.m["InitializeSessionRequest"](session_id=session),
                        "InitializeSessionResponse")
        except self.grpc.RpcError as exc:
            _log("InitializeSession(%r) on the host failed: %s" % (session, exc.code()))

    def forget(self, session: str) -> None:
        with self._lock:
            self.sessions.discard(session)

    def beat(self) -> bool:
        """One round of heartbeats (the worker, then each session); False when the host did not answer."""
        with self._lock:
            sessions = [""] + sorted(self.sessions)
        for session in sessions:
            request = self.m["HeartbeatRequest"](session_id=session)
            request.client_time.GetCurrentTime()
            try:
                self._unary("Heartbeat", request, "HeartbeatResponse", timeout=2.0)
                self.beats += 1
            except self.grpc.RpcError:
                return False
        return True

    def execute_host_tool(self, msg: dict, parent=None):
        """A ``host_call`` frame as ExecuteElixirTool; returns the value or raises with the host's error."""
        request = self.m["ExecuteElixirToolRequest"](session_id=msg.get("session") or "",
                                                     tool_name=msg.get("tool") or "")
        parameter_anys(request, msg.get("args") or {})
        if parent:
            request.metadata["parent_call_id"] = str(parent)
        timeout_ms = msg.get("timeout_ms")
        timeout = timeout_ms / 1000.0 if isinstance(timeout_ms, (int, float)) and timeout_ms > 0 else None
        try:
            response = self._unary("ExecuteElixirTool", request, "ExecuteElixirToolResponse", timeout=timeout)
        except self.grpc.RpcError as exc:
            raise HostToolFailed("HostUnavailable", "the host's ExecuteElixirTool failed: %s" % exc.details())
        if not response.success:
            try:
                info = json.loads(response.error_message)
            except ValueError:
                info = {"message": response.error_message}
            raise HostToolFailed(info.get("name") or info.get("type") or "HostToolError", info.get("message", ""))
        if response.binary_result:
            return bytes(response.binary_result)
        return decode_any(response.result) if response.HasField("result") else None


class HostToolFailed(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.error_name = name


def _heartbeat_settings() -> dict:
    settings = {"enabled": True, "interval_ms": 2000, "max_missed": 3}
    raw = os.environ.get("SNAKEPIT_HEARTBEAT_CONFIG")
    if raw:
        try:
            given = json.loads(raw)
            if isinstance(given, dict):
                settings.update({k: v for k, v in given.items() if k in settings})
        except ValueError:
            _log("ignoring SNAKEPIT_HEARTBEAT_CONFIG: not JSON")
    return settings


def main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        parse_adapter_spec(args.adapter)
        if args.elixir_address.startswith("unix:"):
            if not os.path.isabs(args.elixir_address[5:]):
                raise ValueError("--elixir-address unix:PATH needs an absolute path, got %r" % args.elixir_address)
        else:
            security.split_address(args.elixir_address)
    except ValueError as exc:
        parser.error(str(exc))
    if not security.is_loopback(args.host):
        parser.error("--host %s: a Snakepit-style worker serves its host on this machine only (no TLS, no "
                     "token); use `serve --grpc` for remote hosts" % args.host)
    try:
        import grpc

        from . import proto
        messages = proto.load()
    except ImportError as exc:
        _log("gRPC needs the grpcio and protobuf packages (%s): pip install grpcio protobuf" % exc)
        return 2
    from concurrent import futures

    from .mini_host import MiniHost, WorkerFailed
    from .snakepit_service import SnakepitWorkerService

    host_client = HostClient(grpc, messages, args.elixir_address)
    if not host_client.ping_until_up():
        _log("the host at %s did not answer Ping within %d s; giving up" % (args.elixir_address, PING_GIVE_UP_S))
        return 1
    worker_id = os.environ.get("SNAKEPIT_WORKER_ID") or "python-%d" % os.getpid()
    worker_ref = {}

    def on_host_call(msg):
        worker = worker_ref.get("worker")
        parent = worker.origin_of(msg.get("parent")) if worker is not None else None
        return host_client.execute_host_tool(msg, parent)

    worker = MiniHost(args.adapter, worker_id=worker_id, run_id=args.snakepit_run_id, on_host_call=on_host_call,
                      codec=args.codec, log=_log)
    worker_ref["worker"] = worker
    try:
        worker.start()
    except WorkerFailed as exc:
        _log(str(exc))
        if exc.info and exc.info.get("traceback"):
            sys.stderr.write(exc.info["traceback"])
        worker.child.close()
        return 3

    def get_host():
        if worker.dead is not None:
            raise WorkerFailed(worker.dead)
        return worker

    service = SnakepitWorkerService(grpc, messages, get_host, host_client)
    try:
        host_client.register_tools(worker_id, worker.tools)
    except grpc.RpcError as exc:
        _log("RegisterTools on the host failed (%s); going on" % exc.code())
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="snakepit-rpc"),
                         options=server_options() + [("grpc.max_receive_message_length", 100 * 1024 * 1024),
                                                     ("grpc.max_send_message_length", 100 * 1024 * 1024)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(proto.SERVICE, service.handlers()),))
    socket_path = os.environ.get(SOCKET_ENV)
    if socket_path:
        bind = "unix:" + socket_path
    else:
        bind = "[%s]:%d" % (args.host, args.port) if ":" in args.host else "%s:%d" % (args.host, args.port)
    try:
        port = server.add_insecure_port(bind)
    except RuntimeError:
        port = 0
    if not port:
        _log("cannot listen on %s" % bind)
        worker.shutdown()
        return 2
    server.start()
    where = port
    if socket_path:
        os.chmod(socket_path, 0o600)  # its directory is the host's own (0700); the socket is this user's alone
        where = bind
    ready_file = os.environ.get("SNAKEPIT_READY_FILE")
    if ready_file:
        write_ready_file(ready_file, where)
    sys.stdout.write("GRPC_READY:%s\n" % where)
    sys.stdout.flush()

    stop = threading.Event()
    outcome = {"code": 0}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    settings = _heartbeat_settings()
    interval = max(0.05, float(settings.get("interval_ms", 2000)) / 1000.0)
    missed = 0
    next_beat = time.monotonic() + interval
    parent = os.getppid()
    while not stop.wait(0.05):
        if os.getppid() != parent:  # the host that started us is gone (heartbeats may be off)
            _log("the host process (parent pid %d) is gone: leaving" % parent)
            break
        if worker.dead is not None:
            outcome["code"] = "worker"
            break
        if settings.get("enabled") and time.monotonic() >= next_beat:
            next_beat = time.monotonic() + interval
            missed = 0 if host_client.beat() else missed + 1
            if missed >= int(settings.get("max_missed", 3)):
                _log("the host missed %d heartbeats in a row: leaving" % missed)
                outcome["code"] = EXIT_HOST_GONE
                break
    server.stop(1.0)
    if outcome["code"] == "worker":  # the worker process died: end the same way, so the host sees how
        code = worker.child.proc.wait()
        _log("the worker process ended (%s)" % worker.dead)
        if code < 0:
            signal.signal(-code, signal.SIG_DFL)
            os.kill(os.getpid(), -code)
        return code if code > 0 else 1
    worker.shutdown()
    return outcome["code"]
