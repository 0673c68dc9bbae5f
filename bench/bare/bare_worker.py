"""The transport's ceiling: the least a Python worker can do per call on the same channel.

Reads length-prefixed frames from fd 3, decodes each (msgpack or JSON), answers `add` with a+b, and writes every
answer produced from one read in a single sendall. `count` streams n chunks {"i": i} (64 frames per sendall, no
credit), then the result. No threads, no dispatch, no error handling: what is left of
snakepit's cost when this loop is subtracted is the cost of the bridge itself.
"""
import json
import socket
import struct
import sys

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
        return json.loads(b)

HEADER = struct.Struct(">I")
sock = socket.socket(fileno=3)
buf = bytearray()
while True:
    data = sock.recv(262144)
    if not data:
        break
    buf += data
    out = []
    pos = 0
    end = len(buf)
    while end - pos >= 4:
        (length,) = HEADER.unpack_from(buf, pos)
        if end - pos - 4 < length:
            break
        msg = decode(bytes(buf[pos + 4 : pos + 4 + length]))
        pos += 4 + length
        args = msg["args"]
        if msg["tool"] == "count":  # a stream: n chunks of {"i": i}, 64 per sendall, then the result
            call_id = msg["id"]
            for i in range(args["n"]):
                body = encode({"type": "chunk", "id": call_id, "seq": i, "data": {"i": i}})
                out.append(HEADER.pack(len(body)))
                out.append(body)
                if len(out) >= 128:
                    sock.sendall(b"".join(out))
                    out = []
            body = encode({"type": "result", "id": call_id, "value": None})
        else:
            body = encode({"type": "result", "id": msg["id"], "value": args["a"] + args["b"]})
        out.append(HEADER.pack(len(body)))
        out.append(body)
    del buf[:pos]
    if out:
        sock.sendall(b"".join(out))
