"""A tiny host for tests and benchmarks: spawns a real worker process and speaks the protocol to it.

The worker gets its channel at fd 3, as from the Node host (a socketpair end dup'ed onto fd 3 in the
child; other descriptors are close-on-exec already).
"""

from __future__ import annotations

import collections
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, PYTHON_DIR)

from snakepit_bridge.channel.codec import make_codec  # noqa: E402
from snakepit_bridge.channel.framing import FrameDecoder, frame  # noqa: E402

SHOWCASE = "snakepit_bridge.adapters.showcase:ShowcaseAdapter"
TERMINAL = ("result", "error")


class HostTimeout(AssertionError):
    """The worker did not send what we waited for."""


class FakeHost:
    """One worker process and our end of its channel."""

    def __init__(self, adapter: str = SHOWCASE, codec: str = "msgpack", max_frame_bytes: int = 64 << 20,
                 python: str = sys.executable, args=(), env=None, handshake: bool = True,
                 command=None, welcome=None, new_session: bool = False, ledger_fd=None) -> None:
        self.codec_name = codec
        self.max_frame_bytes = max_frame_bytes
        self.welcome_extra = welcome or {}  # extra welcome fields (e.g. heartbeat)
        self.sock, child = socket.socketpair()
        child_fd = child.fileno()

        def to_fd3():
            os.dup2(child_fd, 3)  # dup2 clears close-on-exec: fd 3 survives exec, the original does not
            if ledger_fd is not None:
                os.dup2(ledger_fd, 4)  # the ledger, as the Node host passes it (--ledger-fd 4)
            if new_session:
                os.setsid()  # lead a process group, as under the Node host

        environ = dict(os.environ)
        environ["PYTHONPATH"] = os.pathsep.join([PYTHON_DIR, FIXTURES, environ.get("PYTHONPATH", "")])
        environ["PYTHONUNBUFFERED"] = "1"
        environ.update(env or {})
        self.proc = subprocess.Popen(
            command or [python, "-m", "snakepit_bridge", "--adapter", adapter, "--worker-id", "test-1",
                        *(["--ledger-fd", "4"] if ledger_fd is not None else []), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            close_fds=False, preexec_fn=to_fd3, env=environ, cwd=PYTHON_DIR,
        )
        child.close()
        self.stdout, self.stderr = [], []
        for pipe, sink in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=_drain, args=(pipe, sink), daemon=True).start()
        self.decoder = FrameDecoder(1 << 30)
        self.codec = make_codec("json")
        self.inbox = collections.deque()
        self.answered = {}  # call id -> terminal frame wait() read while it waited for another call
        self.next_id = 1
        self.hello = self.ready = None
        if handshake:
            self.handshake()

    # ------------------------------------------------------------------------------ handshake

    def handshake(self, codec: str | None = None):
        """Read hello, send welcome, return ready (or fatal)."""
        self.hello = self.recv()
        assert self.hello["type"] == "hello", self.hello
        welcome = {"type": "welcome", "protocol": 1, "codec": codec or self.codec_name,
                   "max_frame_bytes": self.max_frame_bytes}
        welcome.update(self.welcome_extra)
        self.send(welcome)
        self.codec = make_codec(codec or self.codec_name)
        self.ready = self.recv(timeout=20)
        return self.ready

    # ------------------------------------------------------------------------------ transport

    def send(self, msg: dict) -> None:
        self.sock.sendall(frame(self.codec.encode(msg)))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self, timeout: float = 10.0) -> dict:
        """The next message, whatever its type."""
        deadline = time.monotonic() + timeout
        while not self.inbox:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HostTimeout("no frame from the worker within %.1fs; stderr:\n%s"
                                  % (timeout, self.err()))
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            if not data:
                raise EOFError("worker closed the channel; stderr:\n%s" % self.err())
            for body in self.decoder.feed(data):
                self.inbox.append(body)
        return self.codec.decode(self.inbox.popleft())

    def expect(self, mtype: str, timeout: float = 10.0, keep=None) -> dict:
        """Skip (or collect into ``keep``) messages until one of type ``mtype`` arrives."""
        while True:
            msg = self.recv(timeout)
            if msg["type"] == mtype:
                return msg
            if keep is not None:
                keep.append(msg)

    # ---------------------------------------------------------------------------------- calls

    def call(self, tool: str, args=None, **fields) -> int:
        """Send a call and return its id."""
        call_id = self.next_id
        self.next_id += 1
        msg = {"type": "call", "id": call_id, "tool": tool, "args": args if args is not None else {}}
        msg.update(fields)
        self.send(msg)
        return call_id

    def wait(self, call_id: int, timeout: float = 10.0, others=None):
        """Return ``(terminal message, [chunks])`` for ``call_id``; other messages go to ``others``.

        Without ``others``, the terminal frame of another call is kept for that call's own ``wait()``
        (calls running at once end in any order); other messages are dropped.
        """
        kept = self.answered.pop(call_id, None)
        if kept is not None:
            return kept, []
        chunks = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.recv(max(0.01, deadline - time.monotonic()))
            if msg.get("id") == call_id and msg["type"] in TERMINAL:
                return msg, chunks
            if msg.get("id") == call_id and msg["type"] == "chunk":
                chunks.append(msg)
            elif others is not None:
                others.append(msg)
            elif msg["type"] in TERMINAL and "id" in msg:
                self.answered[msg["id"]] = msg

    def run(self, tool: str, args=None, **fields):
        """Call and wait: the result value, or the ErrorInfo of an error (as ``("error", info)``)."""
        msg, _ = self.wait(self.call(tool, args, **fields))
        return msg["value"] if msg["type"] == "result" else ("error", msg["error"])

    # -------------------------------------------------------------------------------- process

    def exit_code(self, timeout: float = 10.0) -> int:
        return self.proc.wait(timeout)

    def out(self) -> str:
        return b"".join(self.stdout).decode("utf-8", "replace")

    def err(self) -> str:
        return b"".join(self.stderr).decode("utf-8", "replace")

    def close(self) -> None:
        """Close our end (the worker sees EOF) and make sure the process is gone."""
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def _drain(pipe, sink) -> None:
    for chunk in iter(lambda: pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536), b""):
        sink.append(chunk)
