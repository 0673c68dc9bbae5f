"""The public API type-checks under ``mypy --strict`` in the user's code: an adapter written against
``snakepit_bridge`` passes, ``@tool`` keeps each method's signature (an untyped decorator would make every tool
untyped under --strict), and the worker still starts without importing ``typing`` (see test_lean_startup)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from conftest import require_optional

BRIDGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

USER_ADAPTER = textwrap.dedent('''
    from __future__ import annotations

    from collections.abc import AsyncIterator, Iterator
    from typing import Any

    from snakepit_bridge import (BaseAdapter, CallCancelled, HostToolError, SessionContext, StreamChunk,
                                 UnknownHostToolError, tool)


    class Tools(BaseAdapter):
        def initialize(self) -> None:
            self.greeting = "Hello"

        @tool(description="Say hello")
        def greet(self, name: str) -> str:
            return self.greeting + ", " + name

        @tool
        def plain(self, x: int) -> int:
            return x

        @tool("a description as the only argument")
        def described(self) -> None:
            return None

        @tool(description="Stream", supports_streaming=True)
        def progress(self, steps: int = 3) -> Iterator[StreamChunk]:
            for i in range(steps):
                yield StreamChunk({"i": i}, is_final=i == steps - 1)

        @tool
        async def ticks(self, n: int) -> AsyncIterator[int]:
            for i in range(n):
                yield i

        @tool
        def remember(self, ctx: SessionContext, key: str) -> Any:
            ctx.store(key, 1)
            return ctx.retrieve(key)

        @tool
        def ask_host(self, ctx: SessionContext) -> Any:
            try:
                return ctx.call_host_tool("lookup", id=7)
            except (HostToolError, UnknownHostToolError, CallCancelled) as err:
                return str(err)


    reveal_type(Tools().greet)
    reveal_type(Tools().progress)
''')


def test_an_adapter_passes_mypy_strict_and_tools_keep_their_signatures(tmp_path):
    require_optional("mypy")
    source = tmp_path / "user_adapter.py"
    source.write_text(USER_ADAPTER)
    env = dict(os.environ, MYPYPATH=BRIDGE_PARENT)
    # follow-imports=silent: the bridge is read for its types, as an installed package would be; this file is
    # held to --strict.
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary",
         "--cache-dir", str(tmp_path / "cache"), str(source)],
        capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=300,
    )
    lines = r.stdout.strip().splitlines()
    errors = [line for line in lines if ": error:" in line]
    assert errors == [], r.stdout + r.stderr
    revealed = [line.split("Revealed type is ", 1)[1] for line in lines if "Revealed type is" in line]
    assert revealed == ['"def (name: str) -> str"',
                        '"def (steps: int =) -> typing.Iterator[snakepit_bridge.stream.StreamChunk]"']


def test_tool_still_works_bare_with_options_and_with_a_description():
    from snakepit_bridge import BaseAdapter, tool

    class A(BaseAdapter):
        @tool
        def a(self) -> int:
            return 1

        @tool("described")
        def b(self) -> int:
            return 2

        @tool(description="d", name="c_tool")
        def c(self) -> int:
            return 3

    specs = {s["name"]: s for s in A().get_tools()}
    assert set(specs) == {"a", "b", "c_tool"}
    assert specs["b"]["description"] == "described"
    assert A().a() == 1
