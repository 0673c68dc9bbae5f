"""The worker's command line and start: parse ``--adapter ... --channel-fd ...`` (fast path, argparse for the
rest) and ``run_worker``, which arms the lifeline, applies the limits, opens the channel and runs the worker.

Apart from ``__main__`` so that a pool's template (``template.py``), which ``__main__`` starts, can call
``run_worker`` in each forked worker without importing ``__main__`` back.
"""

from __future__ import annotations

import os
import sys
import types

from .channel.codec import available_codecs
from .channel.connection import Connection
from .dispatch.lifeline import Lifeline
from .dispatch.limits import ENV as LIMITS_ENV, apply_limits
from .dispatch.startup import parse_adapter_spec
from .dispatch.worker import Worker


def build_parser():
    """The full command line parser (argparse), for what ``parse_fast`` leaves to it: help and every error."""
    # Lazy: argparse pulls in gettext, locale and shutil (which loads bz2, lzma and zlib), about 1 MB of an idle
    # worker's RSS, and the host's own command line never needs it (parse_fast).
    import argparse

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
    parser.add_argument("--ledger-fd", type=int, default=None,
                        help="file descriptor of the ledger the host shares (begun calls, unsent frames)")
    return parser


# The flags of the worker's command line and their destinations, as build_parser declares them.
_FLAGS = {"--adapter": "adapter", "--channel-fd": "channel_fd", "--worker-id": "worker_id", "--pool": "pool",
          "--run-id": "run_id", "--codec": "codec", "--ledger-fd": "ledger_fd"}
_INT_FLAGS = ("channel_fd", "ledger_fd")
_CODECS = ("auto", "msgpack", "json")


def parse_fast(argv):
    """The plain ``--flag value`` command line the host spawns, parsed by hand; None for anything else.

    Accepts only what ``build_parser`` gives the same meaning: each known flag at most once, spelled in full,
    followed by a value that does not start with "-", a valid ``--codec``, integers for ``--channel-fd`` and
    ``--ledger-fd``, and ``--adapter`` given. Everything else (``--flag=value``, abbreviations, ``-h``, errors)
    goes to argparse, which answers it as it always did (a usage message and exit code 2 for errors).
    """
    if len(argv) % 2:
        return None
    args = types.SimpleNamespace(adapter=None, channel_fd=3, worker_id=None, pool=None, run_id=None, codec="auto",
                                 ledger_fd=None)
    seen = set()
    for i in range(0, len(argv), 2):
        flag, value = argv[i], argv[i + 1]
        dest = _FLAGS.get(flag)
        if dest is None or dest in seen or value.startswith("-"):
            return None
        seen.add(dest)
        if dest in _INT_FLAGS:
            try:
                value = int(value)  # what argparse's type=int does
            except ValueError:
                return None
        elif dest == "codec" and value not in _CODECS:
            return None
        setattr(args, dest, value)
    return args if args.adapter is not None else None


def _usage_error(message: str):
    build_parser().error(message)  # prints the usage and exits 2


def run_worker(args, forked: bool = False, lifeline=None) -> int:
    """Arm the lifeline, apply the limits, open the channel and run the worker; returns the exit code.

    ``forked``: a worker forked by a pool's template (template.py), whose parent is the template, not the host.
    ``lifeline``: one armed already (a template's spare arms it while it waits for its worker).
    """
    if lifeline is None:
        lifeline = Lifeline(args.channel_fd, watch_parent_pid=not forked)
        lifeline.arm()  # first: from here on this process cannot outlive its host
    limits = os.environ.get(LIMITS_ENV)
    try:
        cpu_budget = apply_limits(limits) if limits else None  # before any adapter or library code runs
    except (ValueError, OSError) as exc:  # a limit asked for and not applied is a start failure, not a warning
        sys.stderr.write("snakepit_bridge: cannot apply %s=%s: %s\n" % (LIMITS_ENV, limits, exc))
        return 2
    try:
        parse_adapter_spec(args.adapter)
    except ValueError as exc:
        _usage_error(str(exc))
    if args.codec == "msgpack" and "msgpack" not in available_codecs():
        _usage_error("--codec msgpack: the 'msgpack' package is not importable by %s" % sys.executable)
    try:
        conn = Connection.from_fd(args.channel_fd)
    except OSError as exc:
        _usage_error("--channel-fd %d is not an open socket (%s)" % (args.channel_fd, exc.strerror or exc))
    worker = Worker(conn, args, lifeline)
    worker.interrupter.budget = cpu_budget
    return worker.run()
