"""``python -m snakepit_bridge --adapter module:Class [--channel-fd 3] [--worker-id ID] [--pool NAME]
[--run-id RUN] [--codec auto|msgpack|json] [--ledger-fd N]``

``python -m snakepit_bridge serve --grpc HOST:PORT --adapter module:Class [...]`` serves remote hosts instead
(``remote/serve.py``; needs grpcio and protobuf), and ``python -m snakepit_bridge snakepit --adapter module:Class
--port 0 --elixir-address HOST:PORT`` runs one worker the way a Snakepit host starts it (``remote/snakepit_mode.py``).

The host runs the same ``main`` as ``python -c "import sys; from snakepit_bridge.__main__ import main;
sys.exit(main())" --adapter ...``: ``-m`` would import ``runpy`` (and ``importlib.util`` and ``warnings`` with it)
on every cold start, which nothing else needs (src/worker/worker-spawn.ts).

Exit codes: 0 after ``shutdown`` or when the host goes away; 2 for bad arguments (or ``SNAKEPIT_LIMITS`` that
cannot be applied); 3 when the adapter fails to import or initialize (after a ``fatal`` frame); 4 on a protocol
error from the host; 5 when the host's heartbeats stopped (see ``dispatch/lifeline.py``).
"""

from __future__ import annotations

import sys

from .worker_cli import build_parser, parse_fast, run_worker

__all__ = ["main", "build_parser", "parse_fast", "run_worker"]


def main(argv=None) -> int:
    """Parse arguments, open the channel and run the worker; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:  # a gRPC endpoint for remote hosts (snakepit_bridge/remote/serve.py)
        from .remote.serve import main as serve

        return serve(argv[1:])
    if argv[:1] == ["template"]:  # a pool's template, which forks its workers (snakepit_bridge/template.py)
        from .template import main as template

        return template(argv[1:])
    if argv[:1] == ["snakepit"]:  # one worker in Snakepit's style (snakepit_bridge/remote/snakepit_mode.py)
        from .remote.snakepit_mode import main as snakepit

        return snakepit(argv[1:])
    args = parse_fast(argv)
    if args is None:
        args = build_parser().parse_args(argv)  # exits 2 with a usage message on bad arguments
    return run_worker(args)


if __name__ == "__main__":
    sys.exit(main())
