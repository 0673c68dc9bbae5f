"""C library calls without ``import ctypes`` (dispatch/libc.py): the parent-death signal and the heap trim
a cold worker makes before its adapter runs, checked against ``ctypes`` itself."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
LINUX = sys.platform.startswith("linux")


def _fresh(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.skipif(not LINUX, reason="prctl is Linux-only")
def test_prctl_sets_the_parent_death_signal_without_importing_ctypes():
    code = """
import sys
from snakepit_bridge.dispatch.libc import libc_function
prctl = libc_function("prctl")
assert prctl(1, 15, 0, 0, 0) == 0  # PR_SET_PDEATHSIG, SIGTERM
loaded = "ctypes" in sys.modules
import ctypes
signum = ctypes.c_int()
assert ctypes.CDLL(None).prctl(2, ctypes.byref(signum), 0, 0, 0) == 0  # PR_GET_PDEATHSIG
print(loaded, signum.value)
"""
    assert _fresh(code) == "False 15"


@pytest.mark.skipif(not LINUX, reason="prctl is Linux-only")
def test_the_lifeline_arms_the_signal_through_it():
    code = """
import sys
from snakepit_bridge.dispatch.lifeline import Lifeline
lifeline = Lifeline(99)
lifeline.arm()
loaded = "ctypes" in sys.modules
import ctypes
signum = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(signum), 0, 0, 0)
print(lifeline.pdeathsig, loaded, signum.value)
"""
    assert _fresh(code) == "True False 9"  # SIGKILL


def test_results_are_c_ints_and_missing_symbols_are_none():
    from snakepit_bridge.dispatch.libc import libc_function

    assert libc_function("getpid")() == os.getpid()
    assert libc_function("abs")(-7) == 7
    assert libc_function("snakepit_no_such_function") is None
    assert libc_function("getpid") is libc_function("getpid")  # bound once


def test_without_a_usable_ctypes_core_ctypes_binds_it(monkeypatch):
    from snakepit_bridge.dispatch import libc

    def broken(name):
        raise TypeError("a _ctypes without CFuncPtr")

    monkeypatch.setattr(libc, "_bind", broken)
    monkeypatch.setattr(libc, "_BOUND", {})
    assert libc.libc_function("getpid")() == os.getpid()
    assert libc.libc_function("snakepit_no_such_function") is None
