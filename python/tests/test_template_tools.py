"""Tools described ahead by a pool's template (``dispatch.tools.describe_ahead``): each forked worker's
``ToolTable`` copies the template's descriptions instead of reading every signature again. Checked against the
descriptions a worker makes itself, which they replace, and for what must still be described per worker."""

from __future__ import annotations

import pytest

from snakepit_bridge import BaseAdapter, tool
from snakepit_bridge.dispatch import tools
from snakepit_bridge.dispatch.tools import Tool, ToolTable, describe_ahead


@pytest.fixture(autouse=True)
def _no_descriptions_left():
    tools._AHEAD.clear()
    yield
    tools._AHEAD.clear()


def make_adapter():
    class Typed(BaseAdapter):
        @tool(description="Add two integers")
        def add(self, a: int, b: int = 2) -> int:
            return a + b

        @tool
        def tagged(self, name: str, *, limit: int | None = None, **labels: str) -> dict:
            return {"name": name, "labels": labels}

        @tool
        @staticmethod
        def static(x: int) -> int:
            return x

    return Typed


def fresh(cls):
    """The descriptions a worker makes on its own (nothing described ahead)."""
    saved = dict(tools._AHEAD)
    tools._AHEAD.clear()
    try:
        return ToolTable(cls())
    finally:
        tools._AHEAD.update(saved)


def test_a_described_tool_is_the_one_a_worker_would_make_bound_to_the_worker_adapter():
    cls = make_adapter()
    cold = fresh(cls)
    assert describe_ahead(cls) == 2  # add and tagged; the static method is described per worker
    adapter = cls()
    table = ToolTable(adapter)
    assert table.specs() == cold.specs()
    for name in ("add", "tagged"):
        ahead, mine = tools._AHEAD[(name, vars(cls)[name], getattr(vars(cls)[name], "_tool_metadata"))][0], \
            table.tools[name]
        assert mine is not ahead and mine.spec is ahead.spec  # copied from the template's description
        assert mine.func.__self__ is adapter and ahead.func is None
        for slot in Tool.__slots__:
            theirs = getattr(cold.tools[name], slot)
            if slot in ("checks", "converters"):  # compiled functions: the same parameters, checked below
                assert [n for n, _ in getattr(mine, slot)] == [n for n, _ in theirs]
            elif slot == "extra_check":
                assert (mine.extra_check is None) == (theirs is None)
            elif slot != "func":
                assert getattr(mine, slot) == theirs, slot
    assert table.tools["add"].func(a=1) == 3
    # The argument checks came along and still check.
    assert table.tools["add"].problem({"a": "one"}) == cold.tools["add"].problem({"a": "one"}) is not None
    assert table.tools["add"].problem({"a": 1}) is None
    assert table.tools["tagged"].problem({"name": "n", "x": 1}) is not None


def test_a_function_changed_after_the_description_is_described_again():
    cls = make_adapter()
    describe_ahead(cls)
    vars(cls)["add"].__annotations__["b"] = str  # as an initialize() might
    table = ToolTable(cls())
    assert table.tools["add"].spec is not tools._AHEAD[("add", vars(cls)["add"],
                                                        vars(cls)["add"]._tool_metadata)][0].spec
    assert table.tools["add"].problem({"a": 1, "b": 2}) is not None  # b: str now
    assert table.tools["tagged"].spec is tools._AHEAD[("tagged", vars(cls)["tagged"],
                                                       vars(cls)["tagged"]._tool_metadata)][0].spec


def test_another_class_or_a_method_set_on_the_instance_is_not_taken_for_the_described_one():
    cls = make_adapter()
    describe_ahead(cls)
    other = make_adapter()  # same source, other functions
    assert ToolTable(other()).tools["add"].spec is not ToolTable(cls()).tools["add"].spec


def test_a_class_that_cannot_be_probed_is_described_per_worker():
    class Odd(dict):
        @tool
        def f(self, x: int) -> int:
            return x

    class Meta(type):
        def __call__(cls, *args, **kwargs):
            raise AssertionError("describe_ahead must not create an instance")

    class NoNew(BaseAdapter, metaclass=Meta):
        def __new__(cls):
            raise AssertionError("describe_ahead must not call __new__")

        @tool
        def g(self) -> int:
            return 1

    assert describe_ahead(NoNew) == 1  # bound to a bare object: neither __new__ nor __init__ ran
    assert describe_ahead(Odd) in (0, 1)  # whatever object.__new__ allows; never an error
