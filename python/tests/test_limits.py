"""Hard limits set in the worker before the adapter is imported (dispatch/limits.py): the variable's format, the
rlimits each entry sets, and the per-call CPU budget — each in a fresh interpreter, since rlimits cannot be undone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from snakepit_bridge.dispatch.limits import parse_limits

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
LINUX = sys.platform.startswith("linux")


def _run(code: str, limits: str) -> str:
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    script = "from snakepit_bridge.dispatch.limits import apply_limits\nbudget = apply_limits(%r)\n%s" % (limits, code)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_variable_is_read_strictly():
    assert parse_limits("memory_mb=300,cpu_seconds=2,open_files=64") == {
        "memory_mb": 300, "cpu_seconds": 2, "open_files": 64}
    assert parse_limits("") == {}
    for bad in ("memory_mb", "memory_mb=-1", "memory_mb=1.5", "processes=3", "memory_mb=3 "):
        with pytest.raises(ValueError):
            parse_limits(bad)


@pytest.mark.skipif(not LINUX, reason="RLIMIT_DATA is enforced for mmap on Linux")
def test_memory_is_rlimit_data_soft_and_hard_and_a_big_allocation_is_a_memory_error():
    out = _run(
        "import resource\n"
        "print(resource.getrlimit(resource.RLIMIT_DATA))\n"
        "try:\n"
        "    bytearray(512 << 20)\n"
        "except MemoryError:\n"
        "    print('MemoryError')\n"
        "try:\n"
        "    resource.setrlimit(resource.RLIMIT_DATA, (1 << 40, 1 << 40))\n"
        "except (ValueError, OSError):\n"
        "    print('cannot raise it')\n"
        "from snakepit_bridge.errors import error_info\n"
        "print(error_info(MemoryError())['message'])\n",
        "memory_mb=128",
    )
    assert out.splitlines() == [
        "(134217728, 134217728)", "MemoryError", "cannot raise it",
        "an allocation would have taken this worker past limits.memoryMb, 128 MiB"]


def test_open_files_is_rlimit_nofile():
    out = _run("import resource\nprint(resource.getrlimit(resource.RLIMIT_NOFILE))", "open_files=32")
    assert out == "(32, 32)"


def test_a_limit_never_goes_above_a_hard_limit_already_in_place():
    out = _run("import resource\nprint(resource.getrlimit(resource.RLIMIT_NOFILE))",
               "open_files=%d" % (1 << 20))
    soft, hard = eval(out)
    assert soft == hard and hard <= (1 << 20)


def test_the_cpu_budget_moves_the_soft_limit_per_call_and_leaves_the_hard_one():
    out = _run(
        "import resource, time\n"
        "hard = resource.getrlimit(resource.RLIMIT_CPU)[1]\n"
        "first, second = object(), object()\n"
        "budget.start(first)\n"
        "a = resource.getrlimit(resource.RLIMIT_CPU)\n"
        "budget.start(first)  # the same call again (a stream's next chunk): the same budget\n"
        "assert resource.getrlimit(resource.RLIMIT_CPU) == a\n"
        "t0 = time.process_time()\n"
        "while time.process_time() - t0 < 1.1: pass\n"
        "budget.start(second)\n"
        "b = resource.getrlimit(resource.RLIMIT_CPU)\n"
        "print(a[1] == hard, b[1] == hard, 3 <= a[0] <= 4, b[0] - a[0] >= 1)\n",
        "cpu_seconds=2",
    )
    assert out == "True True True True"


def test_short_calls_in_a_row_do_not_move_the_limit_again():
    out = _run(
        "import resource\n"
        "calls = []\n"
        "real = budget.resource\n"
        "class Counting:\n"
        "    RLIMIT_CPU, RLIM_INFINITY = real.RLIMIT_CPU, real.RLIM_INFINITY\n"
        "    def setrlimit(self, which, limits):\n"
        "        calls.append(limits)\n"
        "        real.setrlimit(which, limits)\n"
        "budget.resource = Counting()\n"
        "for _ in range(1000):\n"
        "    budget.start(object())\n"
        "print(len(calls))\n",
        "cpu_seconds=2",
    )
    assert out == "1"  # the first call sets it; the 999 quick ones after it find it right


def test_a_malformed_variable_stops_the_worker_at_start_with_a_clear_line():
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, SNAKEPIT_LIMITS="memory_mb=lots")
    done = subprocess.run([sys.executable, "-m", "snakepit_bridge", "--adapter", "m:C"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "cannot apply SNAKEPIT_LIMITS=memory_mb=lots" in done.stderr
