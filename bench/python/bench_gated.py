"""The bench adapter behind a gate: importing it fails (a dependency is missing) until the file GATE_FILE exists.
For the robustness table's "a pool heals" case."""
import os

if not os.path.exists(os.environ["GATE_FILE"]):
    raise ImportError("a dependency is missing (%s does not exist)" % os.environ["GATE_FILE"])

from bench_adapter import BenchAdapter  # noqa: E402

__all__ = ["BenchAdapter"]
