"""Micro benchmark of the worker's cost, driven from the Python fake host (not a test).

    python tests/bench_roundtrip.py [--codec msgpack|json|both] [--seconds 2] [--baseline]
                                    [--bridge DIR] [--rounds N]

Measures, through a real worker process:
  - sequential round trip of a trivial tool call (``ping`` tool), p50 / p99;
  - sequential round trip of a protocol ``ping`` frame (answered by whoever reads);
  - trivial calls per second with 64 in flight;
  - stream chunks per second (``count`` with 100,000 small dicts, unlimited credit).
and the same for a bare single-threaded framed loop with the same codec (``--baseline``), so the
worker's own cost (dispatch, batching, threads) shows as the difference; ``--bridge DIR`` adds the bridge
found in DIR (another checkout's ``python/``). With ``--rounds N`` the
systems are measured in N interleaved rounds and the table shows medians (min-max): this machine's
timings come in regimes of a few seconds, so one round of each says little. The host here is Python, so
the numbers include its own encode/decode cost; the Node host is faster.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakehost import FakeHost  # noqa: E402
from snakepit_bridge.channel.codec import available_codecs  # noqa: E402
from snakepit_bridge.channel.framing import frame  # noqa: E402


def _percentiles(samples):
    samples = sorted(samples)
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)]


def _round_trips(host: FakeHost, seconds: float, make_msg, check):
    # A blocking recv straight from the socket: FakeHost.recv's timeout handling costs extra syscalls.
    samples = []
    sock, encode, decode, feed = host.sock, host.codec.encode, host.codec.decode, host.decoder.feed
    sock.settimeout(None)
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
        t0 = time.perf_counter()
        sock.sendall(frame(encode(make_msg(n))))
        bodies = []
        while not bodies:
            bodies = feed(sock.recv(1 << 16))
        samples.append(time.perf_counter() - t0)
        check(n, decode(bodies[0]))
    return _percentiles(samples)


def sequential_calls(host: FakeHost, seconds: float):
    def check(n, msg):
        assert msg["id"] == n and msg["type"] == "result", msg
    return _round_trips(host, seconds, lambda n: {"type": "call", "id": n, "tool": "ping", "args": {}}, check)


def sequential_pings(host: FakeHost, seconds: float):
    def check(n, msg):
        assert msg == {"type": "pong", "id": n}, msg
    return _round_trips(host, seconds, lambda n: {"type": "ping", "id": n}, check)


def in_flight(host: FakeHost, seconds: float, depth: int = 64, tool: str = "ping") -> float:
    encode, sock, codec, decoder = host.codec.encode, host.sock, host.codec, host.decoder
    next_id = 20_000_000
    open_calls = set()
    done = 0
    sock.settimeout(10)

    def send_calls(n):
        nonlocal next_id
        parts = []
        for _ in range(n):
            next_id += 1
            open_calls.add(next_id)
            parts.append(frame(encode({"type": "call", "id": next_id, "tool": tool, "args": {}})))
        sock.sendall(b"".join(parts))

    t0 = time.perf_counter()
    end = t0 + seconds
    send_calls(depth)
    while open_calls:
        data = sock.recv(1 << 16)
        if not data:
            raise EOFError(host.err())
        answered = 0
        for body in decoder.feed(data):
            msg = codec.decode(body)
            open_calls.discard(msg["id"])
            answered += 1
        done += answered
        if time.perf_counter() < end:
            send_calls(answered)
    return done / (time.perf_counter() - t0)


def stream(host: FakeHost, n: int = 100_000) -> float:
    t0 = time.perf_counter()
    call_id = host.call("count", {"n": n}, stream=True)
    msg, chunks = host.wait(call_id, timeout=120)
    elapsed = time.perf_counter() - t0
    assert msg["type"] == "result" and len(chunks) == n, (msg, len(chunks))
    return n / elapsed


# The floor to compare with: one thread, blocking reads, one frame answered per frame, same codec.
BARE_LOOP = r"""
import os, socket, sys, time
from snakepit_bridge.channel.codec import make_codec
from snakepit_bridge.channel.framing import FrameDecoder, frame
sock, decoder, codec = socket.socket(fileno=3), FrameDecoder(), make_codec("json")
sock.sendall(frame(codec.encode({"type": "hello", "protocol": 1, "codecs": ["msgpack", "json"]})))
while True:
    bodies = decoder.feed(sock.recv(65536))
    if bodies:
        break
codec = make_codec(codec.decode(bodies[0])["codec"])
sock.sendall(frame(codec.encode({"type": "ready", "adapter": "bare", "tools": []})))
while True:
    data = sock.recv(65536)
    if not data:
        break
    out = []
    for body in decoder.feed(data):
        msg = codec.decode(body)
        if msg["type"] == "ping":
            reply = {"type": "pong", "id": msg["id"]}
        elif msg.get("stream"):
            for i in range(msg["args"]["n"]):
                chunk = {"type": "chunk", "id": msg["id"], "seq": i, "data": {"i": i}}
                out.append(frame(codec.encode(chunk)))
            reply = {"type": "result", "id": msg["id"], "value": None}
        else:
            reply = {"type": "result", "id": msg["id"],
                     "value": {"status": "ok", "pid": os.getpid(), "timestamp": time.time()}}
        out.append(frame(codec.encode(reply)))
    sock.sendall(b"".join(out))
"""


def _worker_command(bridge_dir):
    # Another checkout's bridge: put its directory first, as the Node host does with the bundled one.
    code = ("import runpy, sys; sys.path.insert(0, %r); "
            "runpy.run_module('snakepit_bridge', run_name='__main__', alter_sys=True)" % bridge_dir)
    return [sys.executable, "-c", code, "--adapter", "snakepit_bridge.adapters.showcase:ShowcaseAdapter",
            "--worker-id", "bench"]


def measure(codec: str, seconds: float, command=None, env=None) -> dict:
    host = FakeHost(codec=codec, command=command, env=env)
    try:
        for _ in range(2000):  # warm up
            host.run("ping")
        host.next_id = 1 << 40  # ids of the timed loops below start from 1 again
        call_p50, call_p99 = sequential_calls(host, seconds)
        ping_p50, ping_p99 = sequential_pings(host, seconds)
        return {"call p50 us": call_p50 * 1e6, "call p99 us": call_p99 * 1e6, "ping p50 us": ping_p50 * 1e6,
                "ping p99 us": ping_p99 * 1e6, "calls/s 64 in flight": in_flight(host, seconds),
                "stream chunks/s": stream(host)}
    finally:
        host.close()


def _median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codec", default="both", choices=["msgpack", "json", "both"])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--baseline", action="store_true", help="also measure a bare framed loop")
    parser.add_argument("--bridge", default=None, help="also measure the bridge in this directory")
    opts = parser.parse_args()
    codecs = ["msgpack", "json"] if opts.codec == "both" else [opts.codec]
    print("python %s, codecs available here: %s" % (sys.version.split()[0], available_codecs()))
    systems = [("worker", None, None)]
    if opts.bridge:
        systems.append(("bridge " + os.path.basename(os.path.abspath(opts.bridge).rstrip("/")),
                        _worker_command(os.path.abspath(opts.bridge)), None))
    if opts.baseline:
        systems.append(("bare", [sys.executable, "-c", BARE_LOOP], None))
    for codec in codecs:
        if codec not in available_codecs():
            print("%s: skipped (not importable here)" % codec)
            continue
        results = {name: [] for name, _, _ in systems}
        for _ in range(opts.rounds):
            for name, command, env in systems:
                results[name].append(measure(codec, opts.seconds, command, env))
        keys = list(results[systems[0][0]][0])
        print("\n%s, %d round(s) of %.1f s per measure\n" % (codec, opts.rounds, opts.seconds))
        print("| system | " + " | ".join(keys) + " |")
        print("|---|" + "---|" * len(keys))
        for name, _, _ in systems:
            cells = []
            for key in keys:
                values = [r[key] for r in results[name]]
                digits = 1 if key.endswith("us") else 0
                cell = "%.*f" % (digits, _median(values))
                if len(values) > 1:
                    cell += " (%.*f-%.*f)" % (digits, min(values), digits, max(values))
                cells.append(cell)
            print("| %s | %s |" % (name, " | ".join(cells)))


if __name__ == "__main__":
    main()
