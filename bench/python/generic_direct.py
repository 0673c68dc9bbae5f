"""In-process costs for bench/generic-overhead.ts: the call itself, and the generic adapter's own share.

Prints one JSON object of nanoseconds per call (medians of several timeit repeats):
  direct       math.sqrt(16.0) from Python
  adapter      what the worker does per call besides the channel: resolve_tool, problem(args), func(**args)
"""

import json
import math
import sys
import timeit

from snakepit_bridge.generic import GenericPythonAdapter


def per_call_ns(stmt, number, repeat=7, **names):
    times = timeit.repeat(stmt, globals=names, number=number, repeat=repeat)
    times.sort()
    return times[len(times) // 2] / number * 1e9


def main():
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    adapter = GenericPythonAdapter({"libraries": [{"name": "math", "module": "math"}]})
    adapter.initialize()
    args = {"_args": [16.0]}

    def via_adapter():
        tool = adapter.resolve_tool("python.math.sqrt")
        if tool.problem(args) is None:
            return tool.func(**args)

    assert via_adapter() == 4.0
    print(json.dumps({
        "direct": per_call_ns("sqrt(16.0)", number, sqrt=math.sqrt),
        "adapter": per_call_ns("f()", number, f=via_adapter),
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
