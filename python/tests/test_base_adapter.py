"""The @tool decorator, BaseAdapter.get_tools()/call_tool(), ToolSpecs and argument checking."""

from __future__ import annotations

import asyncio
import contextvars
import typing

import pytest

from snakepit_bridge import BaseAdapter, SessionContext, tool
from snakepit_bridge.base_adapter import ToolMetadata, discover_tools, tool_spec
from snakepit_bridge.dispatch.calls import Call
from snakepit_bridge.dispatch.tools import ToolTable
from snakepit_bridge.session_context import current_call


class Sample(BaseAdapter):
    @tool(description="Add two numbers")
    def add(self, a: int, b: int) -> int:
        return a + b

    @tool
    def documented(self, text: str = "hi", *, times: int = 2, **extra) -> str:
        """Repeat text.

        More detail here.
        """
        return text * times

    @tool("a description given positionally")
    def positional_description(self) -> None:
        return None

    @tool(description="typed", name="renamed")
    def typed(self, items: typing.List[int], mapping: dict[str, float] | None = None,
              when: object = object()) -> typing.Optional[str]:  # noqa: UP045 (annotation text under test)
        return None

    @tool(supports_streaming=True)
    def progress(self, steps: int = 3):
        for i in range(steps):
            yield {"step": i}

    @tool
    def generator_without_flag(self):
        yield 1

    @tool
    async def fetch(self, url: str) -> dict:
        await asyncio.sleep(0)
        return {"url": url}

    @tool
    async def agen(self):
        yield 1

    def not_a_tool(self):
        return "hidden"


def specs():
    return {spec["name"]: spec for spec in Sample().get_tools()}


def test_decorator_forms_store_metadata():
    assert isinstance(Sample.add._tool_metadata, ToolMetadata)
    assert Sample.add._tool_metadata.description == "Add two numbers"
    assert Sample.documented._tool_metadata.description is None  # bare @tool
    assert Sample.positional_description._tool_metadata.description == "a description given positionally"
    assert Sample.progress._tool_metadata.supports_streaming is True
    assert Sample.typed._tool_metadata.name == "renamed"
    assert Sample().add(1, 2) == 3  # the decorator returns the function itself


def test_get_tools_lists_only_tools():
    assert set(specs()) == {"add", "documented", "positional_description", "renamed", "progress",
                            "generator_without_flag", "fetch", "agen"}


def test_toolspec_matches_the_protocol_example():
    assert specs()["add"] == {
        "name": "add", "description": "Add two numbers", "supports_streaming": False, "is_async": False,
        "signature": "add(a: int, b: int) -> int",
        "parameters": [
            {"name": "a", "kind": "positional_or_keyword", "annotation": "int", "required": True},
            {"name": "b", "kind": "positional_or_keyword", "annotation": "int", "required": True},
        ],
        "input_schema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                         "required": ["a", "b"], "additionalProperties": False},
    }


def test_defaults_kinds_and_docstring():
    spec = specs()["documented"]
    assert spec["description"].startswith("Repeat text.")
    assert spec["signature"] == "documented(text: str = 'hi', *, times: int = 2, **extra) -> str"
    assert spec["parameters"] == [
        {"name": "text", "kind": "positional_or_keyword", "annotation": "str", "required": False,
         "default": "hi"},
        {"name": "times", "kind": "keyword_only", "annotation": "int", "required": False, "default": 2},
        {"name": "extra", "kind": "var_keyword", "required": False},
    ]


def test_annotations_are_text_as_written_and_unencodable_defaults_are_omitted():
    spec = specs()["renamed"]
    params = {p["name"]: p for p in spec["parameters"]}
    assert params["items"]["annotation"] == "typing.List[int]"  # strings: this module uses PEP 563
    assert params["mapping"]["annotation"] == "dict[str, float] | None"
    assert params["mapping"]["default"] is None and params["mapping"]["required"] is False
    assert "default" not in params["when"] and params["when"]["required"] is False
    assert spec["signature"].startswith(
        "renamed(items: typing.List[int], mapping: dict[str, float] | None = None,")
    assert spec["signature"].endswith("-> typing.Optional[str]")


def test_runtime_annotations_are_formatted():
    class Runtime(BaseAdapter):
        pass

    def method(self, a, b, c=1):
        return {}

    method.__annotations__ = {"a": int, "b": typing.List[str], "c": "Quoted", "return": typing.Dict[str, int]}
    Runtime.method = tool(method)
    spec = {s["name"]: s for s in Runtime().get_tools()}["method"]
    assert spec["signature"] == "method(a: int, b: List[str], c: Quoted = 1) -> Dict[str, int]"
    assert [p.get("annotation") for p in spec["parameters"]] == ["int", "List[str]", "Quoted"]


def test_streaming_and_async_flags():
    s = specs()
    assert s["progress"]["supports_streaming"] and not s["progress"]["is_async"]
    assert s["generator_without_flag"]["supports_streaming"]  # a generator can only stream
    assert s["fetch"]["is_async"] and not s["fetch"]["supports_streaming"]
    assert s["agen"]["is_async"] and s["agen"]["supports_streaming"]


def test_call_tool_by_name():
    adapter = Sample()
    assert adapter.call_tool("add", a=2, b=3) == 5
    assert adapter.call_tool("renamed", items=[]) is None
    with pytest.raises(ValueError, match="unknown tool 'nope'"):
        adapter.call_tool("nope")


def test_tools_of_a_plain_class_are_discovered():
    class Plain:
        @tool
        def hello(self) -> str:
            return "hi"

        @tool
        @staticmethod
        def static_one() -> int:
            return 1

    found = discover_tools(Plain())
    assert set(found) == {"hello", "static_one"}
    assert tool_spec("hello", found["hello"][0])["signature"] == "hello() -> str"


def test_subclass_overrides_and_inherits_tools():
    class Child(Sample):
        @tool(description="overridden")
        def add(self, a: int, b: int, c: int = 0) -> int:
            return a + b + c

    spec = {s["name"]: s for s in Child().get_tools()}
    assert spec["add"]["description"] == "overridden"
    assert "progress" in spec
    assert Child().call_tool("add", a=1, b=2, c=3) == 6


def test_session_context_follows_the_current_call():
    adapter = Sample()
    assert adapter.session_context is None
    manual = SessionContext(session_id="manual")
    adapter.session_context = manual
    assert adapter.session_context is manual
    call = Call({"id": 7, "tool": "add", "args": {}, "session": "s-1", "correlation_id": "c-1",
                 "timeout_ms": 5000})
    token = current_call.set(call)
    try:
        ctx = adapter.session_context
        assert (ctx.session_id, ctx.call_id, ctx.correlation_id) == ("s-1", 7, "c-1")
        assert 4.0 < ctx.time_remaining() <= 5.0
        assert adapter.session_context is ctx  # built once per call
    finally:
        current_call.reset(token)
    assert adapter.session_context is manual


def test_session_context_is_per_task():
    adapter = Sample()

    async def one(session):
        token = current_call.set(Call({"id": hash(session) & 0xFFFF, "tool": "t", "session": session}))
        try:
            await asyncio.sleep(0.01)
            return adapter.session_context.session_id
        finally:
            current_call.reset(token)

    async def both():
        return await asyncio.gather(one("a"), one("b"))

    assert contextvars.copy_context().run(asyncio.run, both()) == ["a", "b"]


def test_without_a_host_call_host_tool_raises():
    with pytest.raises(RuntimeError, match="not connected"):
        SessionContext().call_host_tool("x")
    assert SessionContext().host_tools == {} and SessionContext().elixir_tools == {}


# ------------------------------------------------------------------------- argument checking

@pytest.fixture(scope="module")
def table():
    return ToolTable(Sample())


@pytest.mark.parametrize("tool_name,args,problem", [
    ("add", {"a": 1, "b": 2}, None),
    ("add", {"a": 1}, "missing required argument 'b'"),
    ("add", {}, "missing required arguments 'a', 'b'"),
    ("add", {"a": 1, "b": 2, "c": 3}, "unexpected argument 'c'"),
    ("add", {1: 1, "a": 1, "b": 2}, "unexpected argument 1"),
    ("documented", {}, None),
    ("documented", {"anything": 1, "times": 3}, None),
    ("documented", {5: "x"}, "argument names must be strings, got 5"),
    ("renamed", {"items": []}, None),
])
def test_argument_problems(table, tool_name, args, problem):
    assert table.get(tool_name).problem(args) == problem


def test_positional_only_parameters_cannot_be_passed():
    class P(BaseAdapter):
        @tool
        def f(self, a, /, b=1):
            return a

    assert ToolTable(P()).get("f").problem({"a": 1}) == "unexpected argument 'a'"


def test_execute_tool_adapters_are_detected():
    class Via:
        def execute_tool(self, tool_name, arguments, context):
            return tool_name

    class ViaAsync(BaseAdapter):
        async def execute_tool(self, tool_name, arguments, context):
            return tool_name

    assert ToolTable(Via()).execute_tool is not None and not ToolTable(Via()).execute_is_async
    assert ToolTable(ViaAsync()).execute_is_async
    assert ToolTable(Sample()).execute_tool is None  # BaseAdapter itself defines no execute_tool
