"""``python -m snakepit_bridge serve --grpc HOST:PORT --adapter module:Class``: workers a remote host attaches to.

Each WorkerChannel stream a host opens starts one worker process (``relay.py``); the host's pool treats it as
one worker. BridgeService's unary RPCs are served too, Snakepit style (``snakepit_service.py``), so a Snakepit
host can drive the same endpoint.

    python -m snakepit_bridge serve --grpc 0.0.0.0:50051 --adapter pkg.mod:Adapter \\
        --tls-cert server.pem --tls-key server.key --token-file /run/secrets/snakepit-token

Security (``security.py``): on a non-loopback address the server refuses to start without TLS and a token,
unless ``--insecure``; without a token anywhere (loopback included) it warns on stderr, since then every process
on the machine may run the adapter's tools. The worker processes it starts inherit its environment without its
secrets (``worker_env.py``). Exit codes: 0 after SIGTERM/SIGINT, 2 for bad arguments or missing packages.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from ..dispatch.startup import parse_adapter_spec
from . import security

__all__ = ["main", "build_parser", "server_options", "write_ready_file"]

KEEPALIVE_TIME_MS = 2000  # ping an idle connection this often, so a dead host is noticed within seconds
KEEPALIVE_TIMEOUT_MS = 3000
STOP_GRACE_S = 2.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m snakepit_bridge serve",
        description="Serve an adapter's tools to remote snakepit hosts over gRPC: each stream a host opens "
                    "runs one worker process.")
    parser.add_argument("--grpc", required=True, metavar="HOST:PORT",
                        help="address to listen on (port 0: any free port; see --ready-file)")
    parser.add_argument("--adapter", required=True, help="the adapter class, 'module:Class'")
    parser.add_argument("--max-workers", type=int, default=os.cpu_count() or 2,
                        help="most worker processes at once (one per host stream); default: CPU count")
    parser.add_argument("--codec", default="auto", choices=["auto", "msgpack", "json"],
                        help="codecs the workers offer (the host may ask for fewer)")
    parser.add_argument("--token-file", default=None,
                        help="file whose first line is the token hosts must present (else $%s)" % security.TOKEN_ENV)
    parser.add_argument("--tls-cert", default=None, help="PEM certificate chain of this server")
    parser.add_argument("--tls-key", default=None, help="PEM private key of this server")
    parser.add_argument("--tls-client-ca", default=None,
                        help="PEM CA bundle: require hosts to present a client certificate it signed")
    parser.add_argument("--insecure", action="store_true",
                        help="allow a non-loopback address without TLS and a token (not recommended)")
    parser.add_argument("--ready-file", default=None,
                        help="once listening, write the bound port to this file (via a rename)")
    return parser


def server_options() -> list:
    """Channel arguments shared by every snakepit gRPC server: fast dead-peer detection, and a server
    that tolerates the host's frequent keepalive pings."""
    return [
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 500),
        ("grpc.http2.min_ping_interval_without_data_ms", 1000),
        ("grpc.http2.max_ping_strikes", 0),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.so_reuseport", 0),
    ]


def write_ready_file(path: str, where) -> None:
    """Write ``where`` (a port, or ``unix:<path>``) to ``path`` atomically (a temporary name, then a rename)."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%s\n" % where)
    os.replace(tmp, path)


def _log(message: str) -> None:
    sys.stderr.write("snakepit_bridge serve: %s\n" % message)
    sys.stderr.flush()


def _read(path: str, what: str, parser: argparse.ArgumentParser) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        parser.error("%s %s: %s" % (what, path, exc.strerror or exc))


def main(argv) -> int:
    """Parse arguments, check the exposure rules, serve until SIGTERM/SIGINT. Returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        parse_adapter_spec(args.adapter)
        host, port = security.split_address(args.grpc)
        token = security.read_token(args.token_file)
    except ValueError as exc:
        parser.error(str(exc))
    if args.max_workers < 1:
        parser.error("--max-workers must be at least 1")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.tls_client_ca and not args.tls_cert:
        parser.error("--tls-client-ca needs --tls-cert and --tls-key")
    problem = security.check_exposure(host, bool(args.tls_cert), token, args.insecure)
    if problem:
        parser.error(problem)
    if token is None:
        _log("WARNING: %s" % security.no_token_warning(host))
    try:
        import grpc

        from . import proto
        messages = proto.load()
    except ImportError as exc:
        sys.stderr.write("snakepit_bridge serve: gRPC needs the grpcio and protobuf packages (%s): "
                         "pip install grpcio protobuf\n" % exc)
        return 2

    from concurrent import futures

    from .relay import WorkerChannelHandler
    from .snakepit_service import snakepit_handlers

    channel_handler = WorkerChannelHandler(messages, args.adapter, args.codec, args.max_workers, _log)
    interceptors = [_token_interceptor(grpc, token)] if token else []
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=args.max_workers + 16, thread_name_prefix="snakepit-grpc"),
        interceptors=interceptors, options=server_options())
    service, methods = proto.service_methods()
    handlers = snakepit_handlers(grpc, messages, args, _log)
    req, resp = messages["ChannelIn"], messages["ChannelOut"]
    handlers["WorkerChannel"] = grpc.stream_stream_rpc_method_handler(
        channel_handler, request_deserializer=req.FromString, response_serializer=resp.SerializeToString)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    bind = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    try:
        if args.tls_cert:
            credentials = grpc.ssl_server_credentials(
                [(_read(args.tls_key, "--tls-key", parser), _read(args.tls_cert, "--tls-cert", parser))],
                root_certificates=_read(args.tls_client_ca, "--tls-client-ca", parser) if args.tls_client_ca else None,
                require_client_auth=bool(args.tls_client_ca))
            bound = server.add_secure_port(bind, credentials)
        else:
            bound = server.add_insecure_port(bind)
    except RuntimeError as exc:
        bound, err = 0, exc
    else:
        err = None
    if not bound:
        _log("cannot listen on %s%s" % (bind, ": %s" % err if err else " (in use, or not an address here?)"))
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    _watch_parent(os.environ.get("SNAKEPIT_SERVE_PARENT"), stop)
    server.start()
    _log("serving %s on %s:%d (tls %s, token %s, at most %d workers)%s" % (
        args.adapter, host, bound, "on" if args.tls_cert else "off", "on" if token else "off", args.max_workers,
        " INSECURE" if args.insecure and not security.is_loopback(host) else ""))
    if args.ready_file:
        write_ready_file(args.ready_file, bound)
    while not stop.wait(1.0):
        pass
    _log("stopping")
    server.stop(STOP_GRACE_S).wait(STOP_GRACE_S + 1)
    for child in list(channel_handler.children):
        child.kill()
    return 0


def _watch_parent(parent, stop: threading.Event) -> None:
    """Set by the Node CLI's ``snakepit serve``, which runs this server: stop when that process is gone (our
    parent changes), so a server never outlives the command that started it, even one killed with SIGKILL."""
    try:
        pid = int(parent) if parent else 0
    except ValueError:
        pid = 0
    if pid <= 0 or os.getppid() != pid:
        return

    def watch() -> None:
        while not stop.wait(0.5):
            if os.getppid() != pid:
                _log("the snakepit serve command that started this server is gone")
                stop.set()

    threading.Thread(target=watch, name="snakepit-serve-parent", daemon=True).start()


def _token_interceptor(grpc, token: str):
    """A grpc.ServerInterceptor that refuses every call without the right token (UNAUTHENTICATED) before any
    handler runs. Built on first use because grpc is imported lazily."""

    def deny(request, context):
        context.abort(grpc.StatusCode.UNAUTHENTICATED,
                      "missing or wrong token (the host's grpc.token must equal the server's)")

    class TokenInterceptor(grpc.ServerInterceptor):
        def intercept_service(self, continuation, details):
            handler = continuation(details)
            if handler is None or security.token_matches(token, details.invocation_metadata):
                return handler
            # Same streaming shape as the real handler, so the server does not wait for a request first.
            if handler.request_streaming and handler.response_streaming:
                return grpc.stream_stream_rpc_method_handler(deny)
            if handler.request_streaming:
                return grpc.stream_unary_rpc_method_handler(deny)
            if handler.response_streaming:
                return grpc.unary_stream_rpc_method_handler(deny)
            return grpc.unary_unary_rpc_method_handler(deny)

    return TokenInterceptor()
