"""The generic adapter: configuration checks, path security, argument mapping, value conversion, hooks,
the package check, and real workers driven by the fake host (both codecs)."""

from __future__ import annotations

import datetime
import json
import os
import sys

import pytest

from conftest import require_optional
from fakehost import PYTHON_DIR
from snakepit_bridge.channel.codec import make_codec
from snakepit_bridge.errors import BridgeError
from snakepit_bridge.generic import GenericPythonAdapter
from snakepit_bridge.generic.config import CONFIG_ENV, ConfigProblem, load_config, parse_config
from snakepit_bridge.generic.convert import ValueOptions, to_wire
from snakepit_bridge.generic.functions import ArgMapper
from snakepit_bridge.generic.library import LibraryImportError, PathRefused, resolve_path

TEST_FIXTURES = os.path.join(os.path.dirname(PYTHON_DIR), "test", "fixtures", "python")
sys.path.insert(0, TEST_FIXTURES)

import snakepit_fixtures.generic_lib as lib  # noqa: E402

GENERIC = "snakepit_bridge.generic:GenericPythonAdapter"
LIB = {"name": "lib", "module": "snakepit_fixtures.generic_lib", "expose": "public"}


def adapter(*libraries, **extra):
    a = GenericPythonAdapter(dict({"libraries": list(libraries)}, **extra))
    a.initialize()
    return a


# ------------------------------------------------------------------------------------ configuration


@pytest.mark.parametrize("library, key", [
    ({"name": "x", "module": "os; rm -rf /"}, "libraries[0].module"),
    ({"name": "x", "module": "../etc/passwd"}, "libraries[0].module"),
    ({"name": "x", "module": "pkg._private"}, "libraries[0].module"),
    ({"name": "x", "module": "builtins"}, "libraries[0].module"),
    ({"name": "x", "module": "importlib.util"}, "libraries[0].module"),
    ({"name": "x y", "module": "math"}, "libraries[0].name"),
    ({"name": "x", "module": "math", "functions": ["sqrt", "__import__"]}, "libraries[0].functions[1]"),
    ({"name": "x", "module": "math", "aliases": {"r": "a b"}}, "libraries[0].aliases.r"),
    ({"name": "x", "module": "math", "hooks": ["rm -rf"]}, "libraries[0].hooks[0]"),
    ({"name": "x", "module": "math", "lazy": "yes"}, "libraries[0].lazy"),
    ({"name": "x", "module": "math", "dataframes": "rows"}, "libraries[0].dataframes"),
])
def test_config_refuses_bad_libraries(library, key):
    with pytest.raises(ConfigProblem) as err:
        parse_config({"libraries": [library]})
    assert str(err.value).startswith(key)


def test_config_refuses_duplicates_and_reads_the_environment():
    with pytest.raises(ConfigProblem, match=r"libraries\[1\].namespace duplicates libraries\[0\]"):
        parse_config({"libraries": [{"name": "a", "module": "math", "namespace": "m", "functions": ["sqrt"]},
                                    {"name": "b", "module": "json", "namespace": "m", "functions": ["dumps"]}]})
    with pytest.raises(ConfigProblem, match="is not set"):
        load_config({})
    with pytest.raises(ConfigProblem, match="not valid JSON"):
        load_config({CONFIG_ENV: "{"})
    with pytest.raises(ConfigProblem, match="limit"):
        load_config({CONFIG_ENV: " " * 70000})
    cfg = load_config({CONFIG_ENV: json.dumps({"libraries": [LIB], "adapter": None})})
    assert cfg.libraries[0].namespace == "lib"


# ---------------------------------------------------------------------------------------- security


@pytest.mark.parametrize("path, why", [
    ("_private", "private"),
    ("os.system", "outside the configured module"),
    ("os", "outside the configured module"),
    ("evaluate", "builtin 'eval'"),
    ("SQUARED", "not a function"),
    ("Point.__init__", "private"),
    ("add.__globals__", "private"),
    ("nothing_here", "has no attribute"),
])
def test_paths_that_escape_are_refused(path, why):
    with pytest.raises(PathRefused, match=why):
        resolve_path(lib, path)


def test_listed_paths_are_checked_at_load():
    with pytest.raises(PathRefused, match="outside the configured module"):
        adapter(dict(LIB, functions=["add", "os.system"]))
    with pytest.raises(PathRefused, match="excluded"):
        adapter(dict(LIB, exclude=["add"], aliases={"plus": "add"}))


def test_discovery_offers_public_callables_only():
    a = adapter(LIB)
    names = {spec["name"] for spec in a.get_tools()}
    assert {"python.lib.add", "python.lib.Point", "python.lib.count"} <= names
    assert not {"python.lib._private", "python.lib.evaluate", "python.lib.os", "python.lib.SQUARED"} & names
    assert a.resolve_tool("python.lib.Point.norm").__class__.__name__ == "_ErrorTool"  # nested: not listed


def test_missing_module_names_the_fix():
    with pytest.raises(LibraryImportError) as err:
        adapter({"name": "nope", "module": "snakepit_no_such_module", "functions": ["f"]})
    message = str(err.value)
    assert "-m pip install snakepit_no_such_module" in message and "install: { package:" in message


# ------------------------------------------------------------------------------------- arguments


def test_arg_mapper_names_the_problem():
    import inspect

    def f(a, b=1, *, c, d=2):
        pass

    m = ArgMapper(inspect.signature(f))
    assert m.problem({"_args": [1], "c": 3}) is None
    assert m.problem({"a": 1, "c": 3}) is None
    assert m.problem({"_args": [1, 2, 3], "c": 3}) == "takes 2 positional arguments but 3 were given"
    assert m.problem({"_args": [1]}) == "missing required argument 'c'"
    assert m.problem({"c": 1}) == "missing required argument 'a'"
    assert m.problem({"_args": [1], "a": 2, "c": 1}) == \
        "got multiple values for argument 'a' (in _args and by name)"
    assert m.problem({"_args": [1], "c": 1, "zz": 0}) == "got unexpected keyword argument 'zz'"
    assert m.problem({"_args": "oops"}) == "_args must be a list of positional arguments, got str"
    assert ArgMapper(inspect.signature(lambda x, /: x)).problem({"x": 1}) == \
        "'x' is positional-only: pass it in _args"
    assert ArgMapper(None).problem({"_args": [1, 2, 3], "anything": 1}) is None  # no signature: the callee decides


def test_calls_map_positional_and_keyword_arguments():
    a = adapter(LIB, {"name": "math", "module": "math", "expose": "public"})
    add = a.resolve_tool("python.lib.add")
    assert add.func(_args=[2, 3], scale=10) == 50
    assert add.spec["signature"] == "add(a: int, b: int = 1, *, scale: int = 1) -> int"
    assert add.spec["description"] == "Add two numbers, then scale the sum."
    assert a.resolve_tool("python.lib.variadic").func(_args=[1, 2], k="v") == {"args": [1, 2], "kwargs": {"k": "v"}}
    log = a.resolve_tool("python.math.log")
    assert log.problem({"_args": []}) is None  # math.log has no signature ...
    with pytest.raises(BridgeError) as err:  # ... so its own TypeError becomes invalid_arguments
        log.func(_args=[])
    assert err.value.kind == "invalid_arguments" and err.value.details["signature"].startswith("log(x")


def test_unknown_functions_answer_with_close_names():
    a = adapter({"name": "math", "module": "math", "expose": "public"})
    with pytest.raises(BridgeError) as err:
        a.resolve_tool("python.math.sqr").func()
    assert err.value.kind == "unknown_tool" and "python.math.sqrt" in err.value.details["available"]
    with pytest.raises(BridgeError, match="no library has the namespace 'nope'"):
        a.resolve_tool("python.nope.x").func()
    with pytest.raises(BridgeError) as err:
        a.resolve_tool("not_python").func()
    assert err.value.kind == "unknown_tool" and err.value.details["available"] == ["python.math.*"]


# ---------------------------------------------------------------------------------------- values


def test_values_are_converted_by_the_mapping_table():
    v = to_wire(lib.values(), ValueOptions())
    assert v["decimal"] == "1.10" and v["uuid"] == "12345678-1234-5678-1234-567812345678"
    assert v["date"] == "2024-02-29" and v["time"] == "12:30:05" and v["timedelta"] == 60.5
    assert isinstance(v["datetime"], datetime.datetime)  # the codecs send a datetime tag
    assert v["enum"] == "green" and v["set"] == [1, 2, 3] and v["frozenset"] == ["a", "b"]
    assert v["namedtuple"] == {"left": 1, "right": 2} and v["dataclass"] == {"x": 3.0, "y": 4.0}
    assert v["nested"] == [{"d": "2"}] and v["nan"] != v["nan"]
    plain = {"a": [1, 2.5, "x", None, True]}
    assert to_wire(plain, ValueOptions()) is plain  # nothing to convert: not copied


def test_values_without_a_by_value_form_are_refused_clearly():
    with pytest.raises(BridgeError) as err:
        to_wire({"rows": [lib.Opaque()]}, ValueOptions())
    assert err.value.kind == "serialization" and err.value.details["path"] == "result.rows[0]"
    assert "in a session it is returned as an object reference" in str(err.value)
    with pytest.raises(BridgeError, match="a module cannot be returned"):
        to_wire(os, ValueOptions())
    loop = []
    loop.append(loop)
    with pytest.raises(BridgeError, match="cycle"):
        to_wire([1, loop], ValueOptions())


def test_numpy_values():
    require_optional("numpy")
    import numpy as np

    typed = to_wire({"a": np.arange(6, dtype=np.int32).reshape(2, 3), "s": np.float32(1.5), "i": np.int64(7)},
                    ValueOptions())
    assert isinstance(typed["a"], np.ndarray) and typed["s"] == 1.5 and type(typed["i"]) is int
    assert to_wire(np.arange(4).reshape(2, 2), ValueOptions(arrays="lists")) == [[0, 1], [2, 3]]
    assert to_wire(np.array(["a", "b"]), ValueOptions()) == ["a", "b"]
    when = to_wire(np.array(["2024-01-02T03:04:05"], dtype="datetime64[ns]"), ValueOptions())
    assert when == [datetime.datetime(2024, 1, 2, 3, 4, 5)]
    for codec in ("json", "msgpack") if "msgpack" in sys.modules or _has_msgpack() else ("json",):
        c = make_codec(codec)
        back = c.decode(c.encode({"type": "result", "id": 1, "value": typed}))["value"]
        assert back["a"].dtype == np.int32 and back["a"].shape == (2, 3) and back["a"].tolist() == [[0, 1, 2], [3, 4, 5]]


def _has_msgpack():
    try:
        import msgpack  # noqa: F401
        return True
    except ImportError:
        return False


def test_pandas_values():
    require_optional("pandas")
    import pandas as pd

    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "when": pd.to_datetime(["2024-01-01", None])})
    records = to_wire(df, ValueOptions())
    assert records[0]["a"] == 1 and records[1]["b"] == "y" and records[1]["when"] is None
    assert isinstance(records[0]["when"], datetime.datetime)
    columns = to_wire(df, ValueOptions(dataframes="columns"))
    assert columns["a"].tolist() == [1, 2] and columns["b"] == ["x", "y"]
    described = to_wire(df[["a"]].describe(), ValueOptions())  # a labelled index becomes the first column
    assert described[0] == {"index": "count", "a": 2.0}
    assert to_wire(pd.Series([1.5, 2.5], index=["p", "q"]), ValueOptions()) == {"p": 1.5, "q": 2.5}
    assert to_wire(pd.Series([1, 2]), ValueOptions(arrays="lists")) == [1, 2]


# ----------------------------------------------------------------------------------------- hooks


def test_cache_hook_skips_repeated_pure_calls():
    lib.SQUARED.clear()
    a = adapter(dict(LIB, functions=["pure_square"], expose="listed", hooks=["cache", "snakepit_fixtures.generic_hooks:AuditHook"]))
    square = a.resolve_tool("python.lib.pure_square")
    assert [square.func(_args=[3]), square.func(_args=[3]), square.func(x=4)] == [9, 9, 16]
    assert lib.SQUARED == [3, 4]
    from snakepit_fixtures import generic_hooks

    tail = generic_hooks.EVENTS[-2:]
    assert tail == [{"when": "before", "tool": "python.lib.pure_square", "args": []},
                    {"when": "after", "tool": "python.lib.pure_square", "ok": True, "result": 16}]


def test_a_hook_without_before_or_after_is_refused():
    with pytest.raises(TypeError, match="neither a before"):
        adapter(dict(LIB, hooks=["snakepit_fixtures.generic_lib:Opaque"]))


# ------------------------------------------------------------------------------ real workers (fake host)


def _env(libraries, adapter=None):
    return {CONFIG_ENV: json.dumps({"libraries": libraries, "adapter": adapter}),
            "PYTHONPATH": os.pathsep.join([PYTHON_DIR, TEST_FIXTURES])}


def test_worker_serves_library_functions(make_host):
    host = make_host(adapter=GENERIC, env=_env([LIB, {"name": "math", "module": "math", "expose": "public", "aliases": {"root": "sqrt"}}]))
    libs = {l["name"]: l for l in host.ready["libraries"]}
    assert libs["math"]["loaded"] and libs["math"]["functions"] > 40
    assert any(t["name"] == "python.math.root" for t in host.ready["tools"])
    assert host.run("python.math.root", {"_args": [16]}) == 4.0
    assert host.run("python.lib.slow_double", {"_args": [21]}) == 42
    bad = host.run("python.lib.add", {"_args": [1, 2, 3]})
    assert bad[0] == "error" and bad[1]["kind"] == "invalid_arguments"
    assert bad[1]["details"]["signature"] == "add(a: int, b: int = 1, *, scale: int = 1) -> int"
    stream_error = host.run("python.lib.count", {"_args": [2]})
    assert stream_error[1]["kind"] == "invalid_arguments" and "stream" in stream_error[1]["message"]
    msg, chunks = host.wait(host.call("python.lib.count", {"_args": [3]}, stream=True))
    assert [c["data"]["i"] for c in chunks] == [0, 1, 2] and msg["value"] == "done"
    assert isinstance(chunks[0]["data"]["when"], datetime.datetime)
    msg, chunks = host.wait(host.call("python.lib.make_generator", {"_args": [3]}, stream=True))
    assert [c["data"] for c in chunks] == [0, 1, 4]
    msg, chunks = host.wait(host.call("python.lib.make_map", {"_args": [3]}, stream=True))
    assert [c["data"] for c in chunks] == ["0", "1", "2"] and msg["type"] == "result"
    gen_error = host.run("python.lib.make_generator", {"_args": [3]})
    assert gen_error[1]["kind"] == "invalid_arguments" and "executeStream" in gen_error[1]["message"]
    opaque = host.run("python.lib.opaque")  # no session: no reference
    assert opaque[1]["kind"] == "serialization" and opaque[1]["details"]["path"] == "result"


def test_worker_loads_lazy_libraries_on_first_use(make_host):
    host = make_host(adapter=GENERIC, env=_env([
        dict(LIB, functions=["is_imported"], expose="listed"),
        {"name": "lazy", "module": "snakepit_fixtures.generic_lazy", "lazy": True, "expose": "public"}]))
    lazy = [l for l in host.ready["libraries"] if l["name"] == "lazy"][0]
    assert lazy == dict(lazy, loaded=False, functions=0)
    assert host.run("python.lib.is_imported", {"_args": ["snakepit_fixtures.generic_lazy"]}) is False
    assert host.run("python.lazy.ping") == "pong"
    assert host.run("python.lib.is_imported", {"_args": ["snakepit_fixtures.generic_lazy"]}) is True
    assert host.run("python.lazy.nope")[1]["kind"] == "unknown_tool"


def test_worker_with_a_missing_module_fails_to_start_with_the_fix(make_host):
    host = make_host(adapter=GENERIC, handshake=False, env=_env([{"name": "x", "module": "snakepit_no_such_mod", "expose": "public"}]))
    fatal = host.handshake()
    assert fatal["type"] == "fatal" and fatal["phase"] == "initialize"
    assert fatal["error"]["type"] == "LibraryImportError" and "pip install snakepit_no_such_mod" in fatal["error"]["message"]


def test_worker_wraps_an_adapter(make_host):
    host = make_host(adapter=GENERIC, env=_env([{"name": "math", "module": "math", "functions": ["sqrt"]}],
                                               adapter="snakepit_fixtures.generic_inner:InnerAdapter"))
    assert {"greet", "session_of", "python.math.sqrt"} <= {t["name"] for t in host.ready["tools"]}
    assert host.run("greet", {"name": "ada"}) == "hello ada"
    assert host.run("session_of", session="s1") == "s1"
    assert host.run("python.math.sqrt", {"_args": [9]}) == 3.0
    unknown = host.run("nope")[1]
    assert unknown["kind"] == "unknown_tool"
    assert unknown["details"]["available"] == ["greet", "session_of", "python.math.*"]


@pytest.mark.parametrize("inner, tool, expected", [
    ("PlainInner", "anything", {"tool": "anything", "arguments": {"a": 1}, "session": "s2"}),
    ("PlainTools", "whoami", "s2"),
])
def test_worker_wraps_adapters_that_are_not_base_adapters(make_host, inner, tool, expected):
    host = make_host(adapter=GENERIC, env=_env([{"name": "math", "module": "math", "functions": ["sqrt"]}],
                                               adapter="snakepit_fixtures.generic_inner:" + inner))
    assert host.run(tool, {"a": 1} if inner == "PlainInner" else {}, session="s2") == expected


def test_return_ref_goes_through_the_single_integration_point():
    a = adapter(LIB)
    add = a.resolve_tool("python.lib.add")
    assert add.problem({"_args": [1], "_return": "ref"}) is None
    assert add.problem({"_args": [1], "_return": "pointer"}) == '_return must be "value", "ref" or "arrow", got \'pointer\''
    assert "single results" in a.resolve_tool("python.lib.count").problem({"_args": [1], "_return": "ref"})
    with pytest.raises(BridgeError) as err:  # outside a call (so without a session): no reference
        add.func(_args=[1], _return="ref")
    assert err.value.kind == "serialization" and "executeInSession" in str(err.value)


def test_worker_returns_references_in_a_session(make_host):
    from snakepit_bridge.channel.values import RefToken

    host = make_host(adapter=GENERIC, env=_env([LIB]))
    ref = host.run("python.lib.opaque", session="s1")
    assert isinstance(ref, RefToken) and ref.tag()["type"] == "Opaque" and ref.tag()["session"] == "s1"
    assert host.run("python.lib.type_of", {"_args": [ref]}, session="s1") == "snakepit_fixtures.generic_lib.Opaque"
    number = host.run("python.lib.add", {"_args": [2, 3], "_return": "ref"}, session="s1")
    assert isinstance(number, RefToken) and number.tag()["type"] == "int"
    assert host.run("python.lib.add", {"_args": [number, 1]}, session="s1") == 6
    kind, info = host.run("python.lib.type_of", {"_args": [ref]}, session="other")
    assert kind == "error" and info["kind"] == "invalid_arguments"  # a reference is only valid in its session
    kind, info = host.run("python.lib.opaque")
    assert info["kind"] == "serialization" and "executeInSession" in info["message"]
