"""The worker's own cost per call at 64 in flight, without the Node host: a Python host feeds a real worker process
batches of 64 msgpack ``add`` calls (each batch one write, the next sent once all 64 are answered, as the Node host
does with one batch per worker) and reports the worker's CPU per call; under ``--valgrind`` its instructions per
call, which do not move with the load on the machine.

    .venv/bin/python bench/python/worker_loop.py [--batches 400] [--mode cpu|valgrind|cprofile] [--python-dir DIR]

``--python-dir`` picks the bridge to measure (default: this checkout's ``python/``), so two checkouts can be
compared side by side. ``valgrind`` runs the worker twice under ``valgrind --tool=callgrind`` (``--batches`` and
twice as many) and reports the difference per call, so start-up drops out; ``cprofile`` reports Python function
calls per call the same way. ``bare`` measures bench/bare/bare_worker.py instead of the bridge.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

import msgpack  # noqa: E402
from snakepit_bridge.channel.codec import make_codec  # noqa: E402

JSON = make_codec("json")  # the handshake's codec

BATCH = 64
HEADER = struct.Struct(">I")
SLOTS, OUTBOX, SIZE = 256, 4096, 1 << 20

# The worker, started the way the Node host starts it, with the watchdog's take-over moved out of the way when the
# worker runs under valgrind or cProfile (a call there takes long enough to look like a long call).
_PRELUDE = """
import os, sys
if os.environ.get("WLOOP_SLOW"):
    import snakepit_bridge.dispatch.watchdog as w
    w.TAKEOVER_S = 10.0
from snakepit_bridge.__main__ import main
prof = os.environ.get("WLOOP_PROFILE")
ops = os.environ.get("WLOOP_OPCODES")
if ops:  # count the bytecodes each function executes (sys.settrace with opcode events), dumped at exit
    import collections, threading
    counts = collections.Counter()
    def tracer(frame, event, arg):
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            counts[(code.co_filename.rsplit("/", 1)[-1], code.co_firstlineno, code.co_name)] += 1
        return tracer
    sys.settrace(tracer)
    threading.settrace(tracer)
    try:
        main()
    finally:
        sys.settrace(None)
        with open(ops, "w") as f:
            for k, v in counts.items():
                f.write("%s:%d:%s\\t%d\\n" % (k[0], k[1], k[2], v))
elif prof:
    import cProfile, pstats
    p = cProfile.Profile()
    try:
        p.runcall(main)
    finally:
        st = pstats.Stats(p)
        with open(prof, "w") as f:
            f.write("%d\\n" % st.total_calls)
        st.dump_stats(prof + ".pstats")
else:
    sys.exit(main())
"""


def make_ledger() -> int:
    fd, path = tempfile.mkstemp(prefix="wloop-ledger-")
    os.unlink(path)
    os.ftruncate(fd, OUTBOX + SIZE)
    os.pwrite(fd, struct.pack("<4sIII", b"SPL1", SLOTS, OUTBOX, SIZE), 0)
    return fd


class Worker:
    def __init__(self, python_dir: str, wrap: list, env: dict, bare: bool = False) -> None:
        self.sock, child = socket.socketpair()
        child_fd = child.fileno()
        ledger = None if bare else make_ledger()

        def fds():
            os.dup2(child_fd, 3)
            if ledger is not None:
                os.dup2(ledger, 4)

        environ = dict(os.environ)
        environ["PYTHONPATH"] = os.pathsep.join([python_dir, os.path.join(ROOT, "bench", "python")])
        environ.update(env)
        if bare:
            cmd = [sys.executable, os.path.join(ROOT, "bench", "bare", "bare_worker.py"), "msgpack"]
        else:
            cmd = [sys.executable, "-c", _PRELUDE, "--adapter", "bench_adapter:BenchAdapter", "--worker-id", "w1",
                   "--ledger-fd", "4"]
        self.proc = subprocess.Popen(wrap + cmd, stdin=subprocess.DEVNULL, close_fds=False, preexec_fn=fds,
                                     env=environ, cwd=ROOT)
        child.close()
        if ledger is not None:
            os.close(ledger)
        self.buf = bytearray()
        self.next_id = 1
        if not bare:
            hello = JSON.decode(self.recv_one())
            assert hello["type"] == "hello", hello
            body = JSON.encode({"type": "welcome", "protocol": 1, "codec": "msgpack", "max_frame_bytes": 64 << 20})
            self.sock.sendall(HEADER.pack(len(body)) + body)
            ready = msgpack.unpackb(self.recv_one(timeout=600), raw=False)
            assert ready["type"] == "ready", ready

    def send(self, msgs: list) -> None:
        out = []
        for m in msgs:
            body = msgpack.packb(m, use_bin_type=True)
            out.append(HEADER.pack(len(body)) + body)
        self.sock.sendall(b"".join(out))

    def recv_bodies(self, timeout=600.0) -> list:
        self.sock.settimeout(timeout)
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("worker closed the channel")
        self.buf += data
        bodies, pos = [], 0
        while len(self.buf) - pos >= 4:
            (n,) = HEADER.unpack_from(self.buf, pos)
            if len(self.buf) - pos - 4 < n:
                break
            bodies.append(bytes(self.buf[pos + 4:pos + 4 + n]))
            pos += 4 + n
        del self.buf[:pos]
        return bodies

    def recv_one(self, timeout=600.0) -> bytes:
        while True:
            bodies = self.recv_bodies(timeout)
            if bodies:
                assert len(bodies) == 1
                return bodies[0]

    def batch(self) -> None:
        first = self.next_id
        self.next_id += BATCH
        self.send([{"type": "call", "id": first + i, "tool": "add", "args": {"a": i, "b": 2}, "timeout_ms": 30000,
                    "slot": i} for i in range(BATCH)])
        got = 0
        while got < BATCH:
            for body in self.recv_bodies():
                msg = msgpack.unpackb(body, raw=False)
                assert msg["type"] == "result" and msg["value"] == msg["id"] - first + 2, msg
                got += 1

    def cpu_ticks(self) -> int:
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def close(self) -> None:
        self.sock.close()
        self.proc.wait(600)


def run(python_dir: str, batches: int, mode: str, bare: bool, warm: int = 20):
    env, wrap, out = {}, [], None
    if mode == "valgrind":
        out = tempfile.mktemp(prefix="wloop-cg-")
        wrap = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out + ".%p"]
        env["WLOOP_SLOW"] = "1"
    elif mode == "opcodes":
        out = tempfile.mktemp(prefix="wloop-ops-")
        env["WLOOP_SLOW"] = "1"
        env["WLOOP_OPCODES"] = out
    elif mode == "cprofile":
        out = tempfile.mktemp(prefix="wloop-prof-")
        env["WLOOP_SLOW"] = "1"
        env["WLOOP_PROFILE"] = out
    w = Worker(python_dir, wrap, env, bare)
    for _ in range(warm):
        w.batch()
    t0, c0 = time.perf_counter(), w.cpu_ticks()
    for _ in range(batches):
        w.batch()
    t1, c1 = time.perf_counter(), w.cpu_ticks()
    w.close()
    calls = batches * BATCH
    result = {"calls_s": calls / (t1 - t0), "cpu_us": (c1 - c0) / os.sysconf("SC_CLK_TCK") * 1e6 / calls}
    if mode == "valgrind":
        total = 0
        for path in glob.glob(out + ".*"):
            with open(path) as f:
                text = f.read()
            m = re.search(r"^summary:\s*(\d+)", text, re.M) or re.search(r"^totals:\s*(\d+)", text, re.M)
            total += int(m.group(1))
            if not os.environ.get("WLOOP_KEEP"):
                os.unlink(path)
            else:
                print("kept", path)
        result["instructions"] = total
    elif mode == "opcodes":
        counts = {}
        with open(out) as f:
            for line in f:
                k, v = line.rstrip("\n").rsplit("\t", 1)
                counts[k] = int(v)
        os.unlink(out)
        result["opcodes"] = sum(counts.values())
        result["by_function"] = counts
    elif mode == "cprofile":
        with open(out) as f:
            result["pycalls"] = int(f.read())
        os.unlink(out)
        result["pstats"] = out + ".pstats"
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=400)
    ap.add_argument("--mode", choices=["cpu", "valgrind", "cprofile", "opcodes"], default="cpu")
    ap.add_argument("--python-dir", default=os.path.join(ROOT, "python"))
    ap.add_argument("--bare", action="store_true")
    args = ap.parse_args()
    if args.mode == "cpu":
        r = run(args.python_dir, args.batches, "cpu", args.bare)
        print("calls/s %.0f  worker CPU %.2f us/call" % (r["calls_s"], r["cpu_us"]))
        return
    key = {"valgrind": "instructions", "cprofile": "pycalls", "opcodes": "opcodes"}[args.mode]
    small = run(args.python_dir, args.batches, args.mode, args.bare)
    large = run(args.python_dir, args.batches * 2, args.mode, args.bare)
    per_call = (large[key] - small[key]) / (args.batches * BATCH)
    print("%s per call: %.1f (runs of %d and %d batches of %d)" % (key, per_call, args.batches, args.batches * 2,
                                                                     BATCH))
    if args.mode == "cprofile":
        print("profiles:", small["pstats"], large["pstats"])
    if args.mode == "opcodes":  # bytecodes per call, by function
        a, b = small["by_function"], large["by_function"]
        rows = sorted(((b.get(k, 0) - a.get(k, 0)) / (args.batches * BATCH), k) for k in b)
        for n, k in reversed(rows):
            if n >= 0.5:
                print("%8.1f  %s" % (n, k))


if __name__ == "__main__":
    main()
