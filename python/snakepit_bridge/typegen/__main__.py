"""``python -m snakepit_bridge.typegen``: print the description of one pool as one JSON object.

The request is JSON in ``SNAKEPIT_TYPEGEN_REQUEST``: ``{"adapter": "pkg.mod:Class" | null, "typeshed": [dirs]}``;
the libraries come from ``SNAKEPIT_GENERIC_CONFIG``, as a worker of the pool gets them. Exit 0 with the
description, or 1 with ``{"error": {"type", "message", "traceback"}}``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

REQUEST_ENV = "SNAKEPIT_TYPEGEN_REQUEST"


def main() -> int:
    out, sys.stdout = sys.stdout, sys.stderr  # a module that prints at import must not corrupt the JSON
    started = time.perf_counter()
    try:
        from . import describe_pool
        from ..generic.config import CONFIG_ENV

        request = json.loads(os.environ.get(REQUEST_ENV) or "{}")
        generic = os.environ.get(CONFIG_ENV)
        result = describe_pool(request.get("adapter"), json.loads(generic) if generic else None,
                               request.get("typeshed") or [])
        result["python"] = "%d.%d.%d" % sys.version_info[:3]
        result["elapsed_ms"] = round((time.perf_counter() - started) * 1000)
    except BaseException as exc:  # anything an import raises, SystemExit included
        sys.stdout = out
        json.dump({"error": {"type": type(exc).__name__, "message": str(exc),
                             "traceback": traceback.format_exc()}}, sys.stdout)
        sys.stdout.write("\n")
        return 1
    sys.stdout = out
    json.dump(result, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
