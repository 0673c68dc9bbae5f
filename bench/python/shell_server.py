"""python-shell's side of the benchmark: its documented persistent mode (JSON lines on stdin/stdout).

python-shell has no request ids, so the harness adds one: each request line is {"id", "fn", "args"}; each answer
line is {"id", "result"} or {"id", "error", "type", "traceback"}; a generator answers one line per item, then a
line with "end". Bytes travel as base64, which is what JSON lines allow.
"""
import base64
import json
import sys
import traceback
import types

import bench_funcs as f


def main():
    out = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        rid = req["id"]
        try:
            args = req.get("args", [])
            if req["fn"] in ("echo_bytes", "sum_f64", "table_roundtrip_ipc"):
                args = [base64.b64decode(args[0])]
            result = getattr(f, req["fn"])(*args)
            if isinstance(result, types.GeneratorType):
                for item in result:
                    out.write(json.dumps({"id": rid, "chunk": item}) + "\n")
                out.write(json.dumps({"id": rid, "end": True}) + "\n")
            else:
                if isinstance(result, bytes):
                    result = base64.b64encode(result).decode()
                out.write(json.dumps({"id": rid, "result": result}) + "\n")
        except Exception as exc:  # report, keep serving
            out.write(json.dumps({"id": rid, "error": str(exc), "type": type(exc).__name__,
                                  "traceback": traceback.format_exc()}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
