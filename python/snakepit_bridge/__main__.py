"""``python -m snakepit_bridge --adapter module:Class [--channel-fd 3] [--worker-id ID] [--pool NAME]
[--run-id RUN] [--codec auto|msgpack|json]``

``python -m snakepit_bridge serve --grpc HOST:PORT --adapter module:Class [...]`` serves remote hosts instead
(``remote/serve.py``; needs grpcio and protobuf), and ``python -m snakepit_bridge snakepit --adapter module:Class
--port 0 --elixir-address HOST:PORT`` runs one worker the way a Snakepit host starts it (``remote/snakepit_mode.py``).

Exit codes: 0 after ``shutdown`` or when the host goes away; 2 for bad arguments; 3 when the adapter
fails to import or initialize (after a ``fatal`` frame); 4 on a protocol error from the host; 5 when the
host's heartbeats stopped (see ``dispatch/lifeline.py``).
"""

from __future__ import annotations

import argparse
import sys

from .channel.codec import available_codecs
from .channel.connection import Connection
from .dispatch.lifeline import Lifeline
from .dispatch.startup import parse_adapter_spec
from .dispatch.worker import Worker


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m snakepit_bridge",
        description="Run a snakepit worker: serve an adapter's tools over the channel at --channel-fd.",
    )
    parser.add_argument("--adapter", required=True,
                        help="the adapter class, 'module:Class' or 'module.Class'")
    parser.add_argument("--channel-fd", type=int, default=3, help="file descriptor of the channel socket (3)")
    parser.add_argument("--worker-id", default=None, help="this worker's id, echoed in hello")
    parser.add_argument("--pool", default=None, help="the pool this worker belongs to")
    parser.add_argument("--run-id", default=None, help="the host's run id (marks processes for cleanup)")
    parser.add_argument("--codec", default="auto", choices=["auto", "msgpack", "json"],
                        help="codecs to offer the host: auto = msgpack if importable, and json")
    return parser


def main(argv=None) -> int:
    """Parse arguments, open the channel and run the worker; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:  # a gRPC endpoint for remote hosts (snakepit_bridge/remote/serve.py)
        from .remote.serve import main as serve

        return serve(argv[1:])
    if argv[:1] == ["snakepit"]:  # one worker in Snakepit's style (snakepit_bridge/remote/snakepit_mode.py)
        from .remote.snakepit_mode import main as snakepit

        return snakepit(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage message on bad arguments
    lifeline = Lifeline(args.channel_fd)
    lifeline.arm()  # first: from here on this process cannot outlive its host
    try:
        parse_adapter_spec(args.adapter)
    except ValueError as exc:
        parser.error(str(exc))
    if args.codec == "msgpack" and "msgpack" not in available_codecs():
        parser.error("--codec msgpack: the 'msgpack' package is not importable by %s" % sys.executable)
    try:
        conn = Connection.from_fd(args.channel_fd)
    except OSError as exc:
        parser.error("--channel-fd %d is not an open socket (%s)" % (args.channel_fd, exc.strerror or exc))
    return Worker(conn, args, lifeline).run()


if __name__ == "__main__":
    sys.exit(main())
