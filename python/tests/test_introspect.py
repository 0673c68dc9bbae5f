"""Module discovery behind `snakepit inspect` (and, later, the generic adapter)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from snakepit_bridge.introspect import describe_module


@pytest.fixture
def sample_module(tmp_path, monkeypatch):
    (tmp_path / "sample_mod.py").write_text(textwrap.dedent('''
        """A sample module.

        More words.
        """
        import os
        from json import dumps
        print("noise at import")

        def add(a: int, b: int = 2) -> int:
            """Add two numbers.

            Longer explanation.
            """
            return a + b

        async def fetch(url):
            return url

        def count(n):
            yield from range(n)

        class Thing:
            """A thing."""
            def __init__(self, size=1):
                self.size = size

        def _private():
            pass

        CONSTANT = 3
    '''))
    (tmp_path / "with_all.py").write_text("__all__ = ['b']\ndef a(): pass\ndef b(): 'B.'\n")
    (tmp_path / "broken_at_import.py").write_text("import not_a_real_library_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_lists_public_callables_defined_in_the_module(sample_module):
    desc = describe_module("sample_mod")
    assert desc["doc"] == "A sample module."
    by_name = {c["name"]: c for c in desc["callables"]}
    assert sorted(by_name) == ["Thing", "add", "count", "fetch"]  # not os, dumps, _private, CONSTANT
    assert by_name["add"] == {"name": "add", "kind": "function", "signature": "(a: int, b: int = 2) -> int",
                              "doc": "Add two numbers.", "is_async": False, "is_generator": False}
    assert by_name["fetch"]["is_async"] is True
    assert by_name["count"]["is_generator"] is True
    assert by_name["Thing"]["kind"] == "class"
    assert by_name["Thing"]["signature"] == "(size=1)"


def test_all_decides_when_present(sample_module):
    assert [c["name"] for c in describe_module("with_all")["callables"]] == ["b"]


def test_builtin_modules():
    names = {c["name"]: c for c in describe_module("math")["callables"]}
    assert names["sqrt"]["kind"] == "builtin"
    assert names["sqrt"]["doc"]


def run_main(module, cwd):
    return subprocess.run([sys.executable, "-m", "snakepit_bridge.introspect", module], capture_output=True,
                          text=True, env={"PYTHONPATH": ":".join([str(cwd)] + sys.path)})


def test_main_keeps_stdout_for_json(sample_module):
    out = run_main("sample_mod", sample_module)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["module"] == "sample_mod"
    assert "noise at import" in out.stderr


def test_main_reports_an_import_error(sample_module):
    out = run_main("broken_at_import", sample_module)
    assert out.returncode == 1
    assert json.loads(out.stdout)["error"] == {
        "type": "ModuleNotFoundError", "message": "No module named 'not_a_real_library_xyz'",
        "missing_module": "not_a_real_library_xyz"}
