"""The name policy (snakepit_bridge/names.py) as a unit, with hypothesis over arbitrary names, and through the
reserved reference tools of a real worker: no name a caller sends reaches a dunder, a frame, a module or eval."""

from __future__ import annotations

import os
import subprocess
import types

import pytest

from snakepit_bridge import names
from snakepit_bridge.channel.values import RefToken

try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # an optional dev package: CI (SNAKEPIT_REQUIRE_OPTIONAL=1) has it, and fails without it
    if os.environ.get("SNAKEPIT_REQUIRE_OPTIONAL") == "1":
        raise
    pytest.skip("optional package 'hypothesis' is not importable (npx snakepit setup --dev)", allow_module_level=True)

# No per-example deadline: this machine is shared, and the policy's speed is not what these tests are about.
relaxed = settings(deadline=None)

IDENT = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,30}", fullmatch=True)


@relaxed
@given(st.text(max_size=60))
def test_a_name_passes_only_as_one_public_identifier(name):
    problem = names.name_problem(name)
    public_identifier = (name[:1].isascii() and name[:1].isalpha() and
                         all(c.isascii() and (c.isalnum() or c == "_") for c in name))
    if problem is None:
        assert public_identifier and name not in names.INTERNAL_NAMES
    else:
        assert "name policy" in problem
        assert len(problem) < 400  # a huge name is quoted cut short


@relaxed
@given(st.text(max_size=30).map(lambda s: "_" + s))
def test_underscore_names_are_always_refused(name):
    assert names.name_problem(name) is not None
    assert names.member_problem(name) is not None


@relaxed
@given(IDENT)
def test_public_identifiers_pass_unless_internal_or_evaluating(name):
    if name in names.INTERNAL_NAMES:
        assert "frames, code or globals" in names.name_problem(name)
    elif name in names.EVALUATING_METHODS:
        assert names.name_problem(name) is None and "evaluates" in names.member_problem(name)
    else:
        assert names.member_problem(name) is None


@relaxed
@given(st.lists(st.text(max_size=12), min_size=1, max_size=5))
def test_a_path_passes_only_when_every_segment_does(parts):
    path = ".".join(parts)
    expected = all(names.name_problem(p) is None for p in parts) and len(path) <= names.MAX_NAME_CHARS
    assert (names.path_problem(path) is None) == expected


def test_huge_names_are_refused_and_quoted_short():
    huge = "a" * (10 << 20)
    assert len(names.name_problem(huge)) < 400
    assert names.short(huge).endswith("(10485760 characters)")
    assert names.clip(huge) == "a" * names.MAX_ECHO_CHARS


@pytest.mark.parametrize("value, fragment", [
    (os, "a module"),
    (types.SimpleNamespace, None),
    (eval, "builtin 'eval'"),
    (getattr, "builtin 'getattr'"),
    (os.system, "'posix'"),
    (subprocess.run, "'subprocess'"),
    (__import__("pickle").loads, "'_pickle'"),
    (len, None),
    ([].append, None),
    ("text", None),
])
def test_what_a_name_reaches(value, fragment):
    problem = names.value_problem(value, "x.y")
    if fragment is None:
        assert problem is None
    else:
        assert fragment in problem and "name policy" in problem


def test_allow_unsafe_lets_process_functions_through_but_never_modules_or_eval():
    assert names.value_problem(os.system, "os.system", allow_unsafe=True) is None
    assert names.value_problem(os, "os", allow_unsafe=True) is not None
    assert names.value_problem(eval, "eval", allow_unsafe=True) is not None


def test_results_holding_refused_things_are_refused_wherever_they_sit():
    assert names.result_problem([1, "a", {"k": (2.0, None)}], "r") is None
    assert "subprocess" in names.result_problem({"deep": [[{"run": subprocess.run}]]}, "r")
    assert "module" in names.result_problem((1, os), "r")


def test_unsafe_modules_match_on_the_top_package_without_underscores():
    assert names.is_unsafe_module("os.path") and names.is_unsafe_module("_pickle")
    assert not names.is_unsafe_module("numpy") and not names.is_unsafe_module("ossify")


# ------------------------------------------------------------------------------- through a worker

REFS = "fixture_adapters:RefAdapter"


@pytest.fixture
def rhost(make_host):
    return make_host(adapter=REFS)


def test_reserved_tools_refuse_policy_names_before_running(rhost):
    ref = rhost.run("make_model", {"name": "alpha", "weight": 2.0}, session="s1")
    assert isinstance(ref, RefToken)
    for tool, field in (("__snakepit__.get_attr", "name"), ("__snakepit__.call_method", "method")):
        for name in ("__class__", "__reduce_ex__", "__dict__", "_private", "gi_frame", "f_globals", "a.b", "",
                     "x" * 300):
            kind, info = rhost.run(tool, {"ref": ref, field: name}, session="s1")
            assert kind == "error" and info["kind"] == "invalid_arguments", (tool, name)
            assert len(info["message"]) < 600
    # The worker serves on: public names still work.
    assert rhost.run("__snakepit__.get_attr", {"ref": ref, "name": "name"}, session="s1") == "alpha"


def test_unknown_tool_errors_quote_a_huge_name_short(rhost):
    kind, info = rhost.run("t" * (4 << 20))
    assert kind == "error" and info["kind"] == "unknown_tool"
    assert len(info["message"]) < 400 and len(info["details"]["tool"]) == names.MAX_ECHO_CHARS

