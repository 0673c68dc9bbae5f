"""``WorkerChannel``: one gRPC stream = one worker process; the stream carries that worker's channel bytes.

    host ── ChannelIn{data} ──► inbound thread ── sendall ──► socket pair ──► worker (python -m snakepit_bridge)
    host ◄── ChannelOut{data, stdout, stderr} ◄── outbound loop ◄── select(socket, stdout, stderr) ◄─┘
    host ◄── ChannelOut{exit} (last), then status OK

Bytes are moved as they are: the frames, the handshake and the codec are the local channel's (PROTOCOL.md
§2–§6). What the socket has ready is sent as one message, so a busy worker's frames travel several to a
message. The host closing its side (or cancelling the call, or the connection dying under the server's
keepalive) ends the worker: end of file or SIGKILL to its process group.
"""

from __future__ import annotations

import os
import re
import select
import socket
import threading

from .child import WorkerChild

__all__ = ["WorkerChannelHandler", "MAX_MESSAGE_BYTES"]

MAX_MESSAGE_BYTES = 1024 * 1024  # one ChannelOut carries at most this much channel data (gRPC's limit is 4 MiB)
_SAFE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_EXIT_WAIT_S = 2.0  # after end of file, how long the worker gets to exit before it is killed
_OUTPUT_DRAIN_S = 0.5  # after it exited, how long its stdout/stderr (held by a grandchild?) may stay open


class WorkerChannelHandler:
    """Serves WorkerChannel streams for one adapter, at most ``max_workers`` at a time."""

    def __init__(self, messages, adapter: str, codec: str, max_workers: int, log) -> None:
        self.messages = messages
        self.adapter = adapter
        self.codec = codec
        self.max_workers = max_workers
        self.log = log
        self._lock = threading.Lock()
        self.children = set()

    def __call__(self, request_iterator, context):
        import grpc

        meta = dict(context.invocation_metadata())
        ids = {}
        for key in ("worker-id", "pool", "run-id"):
            value = meta.get("x-snakepit-" + key, "")
            if value and not _SAFE.match(value):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "x-snakepit-%s %r is not 1-64 safe characters"
                              % (key, value))
            ids[key] = value
        codec = meta.get("x-snakepit-codec") or self.codec
        if codec not in ("auto", "msgpack", "json"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "x-snakepit-codec must be auto, msgpack or json")
        with self._lock:
            if len(self.children) >= self.max_workers:
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                              "this endpoint already runs %d workers (its --max-workers)" % self.max_workers)
            child = WorkerChild(self.adapter, ids["worker-id"], ids["pool"], ids["run-id"], codec)
            self.children.add(child)
        self.log("worker %s (pid %d) started for %s" % (ids["worker-id"] or "?", child.pid, context.peer()))
        context.add_callback(child.kill)  # the call ended or was cancelled: the worker goes with it
        threading.Thread(target=self._inbound, args=(request_iterator, child), daemon=True,
                         name="snakepit-inbound").start()
        try:
            yield from self._outbound(child)
        finally:
            with self._lock:
                self.children.discard(child)
            child.close()

    def _inbound(self, request_iterator, child) -> None:
        """Host -> worker: write each message's bytes; the host's end of stream is the worker's end of file."""
        sock = child.sock
        try:
            for msg in request_iterator:
                if msg.data:
                    sock.sendall(msg.data)
        except Exception:  # cancelled, connection lost, or the worker closed its end: the outbound loop ends it
            pass
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _outbound(self, child):
        """Worker -> host: channel bytes and output lines as they come, then the exit status."""
        ChannelOut = self.messages["ChannelOut"]
        sock = child.sock
        out_fd, err_fd = child.proc.stdout.fileno(), child.proc.stderr.fileno()
        lines = {out_fd: _Lines(), err_fd: _Lines()}
        open_fds = [sock.fileno(), out_fd, err_fd]
        exited_at = None
        while open_fds:
            timeout = 1.0
            if sock.fileno() not in open_fds:  # the channel closed: wait for the exit, then a little output
                if exited_at is None and child.proc.poll() is not None:
                    exited_at = _now()
                if exited_at is not None and _now() - exited_at > _OUTPUT_DRAIN_S:
                    break
                timeout = 0.05
            ready, _, _ = select.select(open_fds, [], [], timeout)
            data = b""
            for fd in ready:
                if fd == sock.fileno():
                    try:
                        data = sock.recv(MAX_MESSAGE_BYTES)
                    except OSError:
                        data = b""
                    if not data:
                        open_fds.remove(fd)
                else:
                    chunk = _read(fd)
                    if not chunk:
                        open_fds.remove(fd)
                    lines[fd].feed(chunk)
            out, err = lines[out_fd].take(), lines[err_fd].take()
            if data or out or err:
                yield ChannelOut(data=data, stdout=out, stderr=err)
        code, sig = child.wait(_EXIT_WAIT_S)
        rest = ChannelOut(stdout=lines[out_fd].take(final=True), stderr=lines[err_fd].take(final=True))
        rest.exit.code, rest.exit.signal, rest.exit.pid = code, sig, child.pid
        self.log("worker (pid %d) ended: %s" % (child.pid, sig or "exit code %d" % code))
        yield rest


class _Lines:
    """Split a pipe's bytes into text lines (a partial last line waits for its end)."""

    MAX_CHARS = 16384

    def __init__(self) -> None:
        self.partial = b""
        self.done = []

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        parts = (self.partial + chunk).split(b"\n")
        self.partial = parts.pop()
        if len(self.partial) > 4 * self.MAX_CHARS:
            parts.append(self.partial)
            self.partial = b""
        for part in parts:
            self.done.append(part.rstrip(b"\r").decode("utf-8", "replace")[: self.MAX_CHARS])

    def take(self, final: bool = False) -> list:
        if final and self.partial:
            self.done.append(self.partial.decode("utf-8", "replace"))
            self.partial = b""
        out, self.done = self.done, []
        return out


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


def _now() -> float:
    import time

    return time.monotonic()
