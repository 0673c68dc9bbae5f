"""snakepit_bridge.typegen: docstrings, runtime hints and stubs into model nodes (the host renders them)."""

from __future__ import annotations

import ast
import dataclasses
import enum
import sys
import typing

import pytest

from snakepit_bridge.jstypes import BigInt
from snakepit_bridge.typegen import describe_pool, typeshed_dirs
from snakepit_bridge.typegen.docs import doc_parts
from snakepit_bridge.typegen.from_hints import HintReader
from snakepit_bridge.typegen.from_stubs import StubReader
from snakepit_bridge.typegen.model import Defs, union
from snakepit_bridge.typegen.stubs import StubIndex, _condition

from conftest import require_optional


def read(hint):
    defs = Defs()
    return HintReader(defs).node(hint), defs.sorted()


def test_docstrings_in_google_numpy_and_rest_styles():
    google = doc_parts("""Classify.

    More text.

    Args:
        text (str): the text
            on two lines.

    Returns:
        dict: the label.
    """)
    assert google == {"summary": "Classify.", "body": "More text.",
                      "params": {"text": "the text on two lines."}, "returns": "dict: the label."}
    numpy = doc_parts("""Mean.

    Parameters
    ----------
    a : array_like
        The values.

    Returns
    -------
    m : float
        The mean.

    Examples
    --------
    >>> mean([1])
    1.0
    """)
    assert numpy["params"] == {"a": "The values."}
    assert numpy["returns"] == "m : float — The mean."
    assert "body" not in numpy  # the examples are a section, not prose
    rest = doc_parts("Add.\n\n:param a: first\n:returns: the sum\n")
    assert rest["params"] == {"a": "first"} and rest["returns"] == "the sum"
    assert doc_parts(None) == {} and doc_parts("   ") == {}


def test_doctests_are_left_out_of_the_body():
    parts = doc_parts("Sum.\n\n>>> add(1, 2)\n3\n\nAfter.")
    assert parts["body"] == "After."


def test_runtime_hints_become_nodes():
    assert read(int)[0] == {"k": "int"}
    assert read(typing.Optional[str])[0] == {"k": "union", "of": [{"k": "str"}, {"k": "none"}]}
    assert read(dict[tuple[int, int], bytes])[0] == {
        "k": "dict", "key": {"k": "tuple", "of": [{"k": "int"}, {"k": "int"}]}, "val": {"k": "bytes"}}
    assert read(tuple[int, ...])[0] == {"k": "list", "of": {"k": "int"}}
    assert read(typing.Literal["a", 1])[0] == {"k": "lit", "of": ["a", 1]}
    assert read(BigInt)[0] == {"k": "bigint"}
    assert read(typing.Iterator[int])[0] == {"k": "iter", "of": {"k": "int"}, "async": False}
    assert read(typing.Callable[[int], int])[0]["k"] == "obj"
    assert read(typing.Any)[0] == {"k": "any"}


def test_classes_become_definitions_or_references():
    class Color(enum.Enum):
        RED = "red"

    @dataclasses.dataclass
    class Point:
        """A point.

        Attributes:
            x: across
        """
        x: float
        y: float = 0.0

    class Opaque:
        pass

    node, defs = read(list[Point])
    ref = node["of"]["ref"]
    assert defs[ref]["kind"] == "dataclass"
    assert defs[ref]["fields"] == [
        {"name": "x", "type": {"k": "float"}, "required": True, "doc": "across"},
        {"name": "y", "type": {"k": "float"}, "required": False, "default": "0.0"}]
    assert defs[ref]["doc"] == {"summary": "A point."}
    node, defs = read(Color)
    assert defs[node["ref"]]["values"] == ["red"]
    assert read(Opaque)[0] == {"k": "obj", "cls": Opaque.__module__ + "." + Opaque.__qualname__}


def test_a_recursive_dataclass_refers_to_itself():
    @dataclasses.dataclass
    class Tree:
        children: "list[Tree]"

    Tree.__annotations__["children"] = list[Tree]
    node, defs = read(Tree)
    assert defs[node["ref"]]["fields"][0]["type"] == {"k": "list", "of": node}


def test_union_flattens_drops_never_and_any_absorbs():
    assert union([{"k": "int"}, {"k": "union", "of": [{"k": "int"}, {"k": "str"}]}]) == \
        {"k": "union", "of": [{"k": "int"}, {"k": "str"}]}
    assert union([{"k": "never"}, {"k": "str"}]) == {"k": "str"}
    assert union([{"k": "any"}, {"k": "str"}]) == {"k": "any"}


def test_version_and_platform_conditions_are_read_for_this_interpreter():
    def cond(text):
        return _condition(ast.parse(text, mode="eval").body)

    assert cond("sys.version_info >= (3, 0)") is True
    assert cond("sys.version_info < (3, 0)") is False
    assert cond("sys.platform == %r" % sys.platform) is True
    assert cond("not sys.platform.startswith('nothing')") is True
    assert cond("FOO") is None


def test_stub_aliases_typevars_and_overloads(tmp_path, monkeypatch):
    (tmp_path / "tgstub.py").write_text("def f(x): ...\ndef g(x, y=1): ...\n")
    (tmp_path / "tgstub.pyi").write_text(
        "import sys\n"
        "from typing import TypeVar, overload, Literal, TypeAlias\n"
        "_N = TypeVar('_N', int, float)\n"
        "Pair: TypeAlias = tuple[_N, _N]\n"
        "if sys.version_info >= (3, 0):\n"
        "    @overload\n    def f(x: int) -> str: ...\n"
        "    @overload\n    def f(x: Pair[float]) -> Literal['pair']: ...\n"
        "else:\n    def f(x: bytes) -> bytes: ...\n"
        "def g(__x: _N, y: int = ...) -> list[_N]: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reader = StubReader(StubIndex(), Defs())
    sigs = reader.signatures("tgstub", "f")
    assert [s["returns"] for s in sigs] == [{"k": "str"}, {"k": "lit", "of": ["pair"]}]
    assert sigs[1]["params"][0]["type"] == {"k": "tuple", "of": [{"k": "float"}, {"k": "float"}]}
    (g,) = reader.signatures("tgstub", "g")
    assert g["params"][0] == {"name": "x", "kind": "positional_only", "optional": False,
                              "type": {"k": "tv", "name": "_N", "of": [{"k": "int"}, {"k": "float"}]}}
    assert g["params"][1]["optional"] is True


def test_a_stub_that_does_not_parse_is_no_stub(tmp_path, monkeypatch):
    (tmp_path / "tgbroken.py").write_text("def f(x): ...\n")
    (tmp_path / "tgbroken.pyi").write_text("def f(x: int -> str: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert StubIndex().module("tgbroken") is None
    assert StubReader(StubIndex(), Defs()).signatures("tgbroken", "f") is None


def test_a_pool_is_described_by_the_code_that_serves_it():
    config = {"version": 1, "adapter": None, "libraries": [
        {"name": "json", "module": "json", "functions": ["dumps"], "aliases": {"encode": "dumps"}}]}
    described = describe_pool(None, config)
    assert [t["name"] for t in described["tools"]] == ["python.json.dumps", "python.json.encode"]
    with pytest.raises(Exception, match="exposes nothing"):
        describe_pool(None, {"version": 1, "adapter": None, "libraries": [{"name": "json", "module": "json"}]})


def test_typeshed_is_found_when_mypy_is_installed():
    require_optional("mypy")  # its typeshed gives the standard library's types
    assert any(d.endswith("typeshed") for d in typeshed_dirs())
