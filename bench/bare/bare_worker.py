"""The transport's ceiling: the least a Python worker can do per call on the same channel as snakepit.

Reads length-prefixed frames from fd 3, decodes each (msgpack or JSON), calls the named function of bench_funcs
with the arguments, and answers with a `result` frame (a generator: one `chunk` frame per item, then `result`).
Everything produced from one read goes out in one sendall. No threads, no cancellation, no error handling, no
back-pressure: what snakepit costs beyond this loop is the cost of those.
"""
import json
import os
import socket
import struct
import sys
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import bench_funcs  # noqa: E402

codec = sys.argv[1] if len(sys.argv) > 1 else "msgpack"
if codec == "msgpack":
    import msgpack

    packer = msgpack.Packer(use_bin_type=True)
    encode = packer.pack

    def decode(b):
        return msgpack.unpackb(b, raw=False)
else:
    def encode(m):
        return json.dumps(m, separators=(",", ":")).encode()

    def decode(b):
        return json.loads(bytes(b))

HEADER = struct.Struct(">I")
sock = socket.socket(fileno=3)


def frame(message, out):
    body = encode(message)
    out.append(HEADER.pack(len(body)))
    out.append(body)


# Reads go into one reusable buffer (as the bridge's channel does): no allocation per read, and frames that
# arrived whole are decoded from it without a copy; only a partial frame is kept aside.
recv_buf = bytearray(262144)
recv_view = memoryview(recv_buf)
rest = bytearray()
while True:
    n = sock.recv_into(recv_buf)
    if not n:
        break
    if rest:
        rest += recv_view[:n]
        data = memoryview(rest)
    else:
        data = recv_view[:n]
    out = []
    pos = 0
    end = len(data)
    while end - pos >= 4:
        (length,) = HEADER.unpack_from(data, pos)
        if end - pos - 4 < length:
            break
        msg = decode(data[pos + 4 : pos + 4 + length])
        pos += 4 + length
        value = getattr(bench_funcs, msg["tool"])(**msg["args"])
        if isinstance(value, types.GeneratorType):
            for seq, item in enumerate(value):
                frame({"type": "chunk", "id": msg["id"], "seq": seq, "data": item}, out)
                if len(out) >= 256:
                    sock.sendall(b"".join(out))
                    out = []
            value = None
        frame({"type": "result", "id": msg["id"], "value": value}, out)
    tail = bytes(data[pos:])
    data.release()
    rest = bytearray(tail)
    if out:
        sock.sendall(b"".join(out))
