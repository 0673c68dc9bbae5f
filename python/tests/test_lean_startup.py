"""What an idle worker does not load: the hand-parsed command line, the lazy ``logging``
forwarder, builtin-class hints resolved without ``typing``, and the heap trim before ``ready``.

Each replaces a general tool by a narrow one, so each is checked against the general tool it replaces.
"""

from __future__ import annotations

import os
import subprocess
import sys
import typing

import pytest

from snakepit_bridge.__main__ import build_parser, parse_fast
from snakepit_bridge.dispatch.memory import trim_heap
from snakepit_bridge.schema import _plain_hints, input_schema, type_schema

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)

# ------------------------------------------------------------------------------------ the command line

HOST_LINE = ["--adapter", "m:C", "--channel-fd", "3", "--worker-id", "pool-1", "--pool", "default",
             "--run-id", "r1", "--codec", "msgpack"]


@pytest.mark.parametrize("argv", [
    HOST_LINE,
    ["--adapter", "m:C"],
    ["--codec", "json", "--adapter", "pkg.mod.Class"],
    ["--adapter", "m:C", "--channel-fd", " 7 "],
    ["--adapter", "m:C", "--pool", ""],
    ["--adapter", "m:C", "--worker-id", "wörker 1"],
])
def test_the_hand_parser_agrees_with_argparse(argv):
    fast = parse_fast(argv)
    assert fast is not None
    assert vars(fast) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", [
    [],                                              # --adapter missing: argparse's error
    ["--adapter"],                                   # no value
    ["--adapter=m:C"],                               # = form
    ["--adapt", "m:C"],                              # an abbreviation argparse accepts
    ["--adapter", "m:C", "--adapter", "n:D"],        # repeated: argparse keeps the last
    ["--adapter", "m:C", "--codec", "xml"],          # not a choice
    ["--adapter", "m:C", "--channel-fd", "three"],   # not an integer
    ["--adapter", "m:C", "--worker-id", "-1"],       # a value that looks like a flag
    ["-h", "x"],
    ["--adapter", "m:C", "extra"],
])
def test_anything_else_goes_to_argparse(argv):
    assert parse_fast(argv) is None


def test_the_host_command_line_does_not_import_argparse():
    code = ("import sys; from snakepit_bridge.__main__ import parse_fast; "
            "assert parse_fast(%r).adapter == 'm:C'; print('argparse' in sys.modules)" % (HOST_LINE,))
    assert _fresh(code) == "False"


# ------------------------------------------------------------------------------------------- hints


class Local:
    pass


NoneType = type(None)


# This module has ``from __future__ import annotations``: every hint below is a string, as in most adapters.
def _plain(a: int, b: float, c: str = "x", *args: bytes, d: list, e: dict = {}, **kw: object) -> bool:
    pass


def _none_hint(a: None, b: NoneType) -> None:
    pass


def _none_default(a: int = None):
    pass


def _unannotated(a, b=1):
    pass


def _typing_hint(a: typing.Optional[int], b: typing.List[str]):
    pass


def _local_class(a: Local):
    pass


def _shadowed(a: float):
    pass


def _expression(a: list[int]):
    pass


def _missing(a: NoSuchName):  # noqa: F821
    pass


def _union_text(a: int | None, b: str|bytes):  # noqa: E227
    pass


def _quoted(a: "int"):  # a string in a string: get_type_hints evaluates it twice
    pass


class _Methods:
    def method(self, a: int, b: str) -> dict:
        pass


def _wrapped(a: int):
    pass


_wrapped.__wrapped__ = _plain


def _shadow_globals(func):
    func_globals = dict(func.__globals__, float=Local)
    return type(func)(func.__code__, func_globals, func.__name__, func.__defaults__, func.__closure__)


RESOLVED = [_plain, _none_hint, _unannotated, _Methods().method, _shadow_globals(_shadowed)]
if sys.version_info >= (3, 11):
    RESOLVED.append(_none_default)  # earlier, get_type_hints makes it Optional[int]: typing's path
if sys.version_info >= (3, 10):
    RESOLVED.append(_union_text)


@pytest.mark.parametrize("func", RESOLVED)
def test_plain_hints_are_what_get_type_hints_gives(func):
    assert _plain_hints(func) == typing.get_type_hints(func, include_extras=True)


@pytest.mark.parametrize("func", [_typing_hint, _local_class, _expression, _missing, _wrapped, _quoted, len]
                         + ([_none_default] if sys.version_info < (3, 11) else [])
                         + ([_union_text] if sys.version_info < (3, 10) else []))
def test_other_hints_take_typings_path(func):
    assert _plain_hints(func) is None


@pytest.mark.parametrize("hint", [list, dict, tuple, set, frozenset, typing.List, typing.Dict, typing.Tuple,
                                  typing.Set, typing.FrozenSet])
def test_bare_containers_get_the_same_schema_with_or_without_typing(hint):
    # ``list`` no longer goes through typing.get_origin; typing.List (origin list, no arguments) still does
    plain = {typing.List: list, typing.Dict: dict, typing.Tuple: tuple, typing.Set: set,
             typing.FrozenSet: frozenset}.get(hint, hint)
    assert type_schema(plain) == type_schema(hint)


def test_a_showcase_like_adapter_builds_its_schemas_without_typing():
    code = """
import sys
from snakepit_bridge.adapters.showcase import ShowcaseAdapter
from snakepit_bridge.dispatch.tools import ToolTable
specs = ToolTable(ShowcaseAdapter()).specs()
assert any(s["name"] == "add" and s["input_schema"]["properties"]["a"] == {"type": "number"} for s in specs)
print("typing" in sys.modules)
"""
    # Python < 3.11 makes ``args: dict | None = None`` Optional through typing; from 3.11 none is needed
    assert _fresh(code) == ("True" if sys.version_info < (3, 11) else "False")


def test_input_schema_of_plain_hints():
    assert input_schema(_plain) == {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "number"},
                       "c": {"type": "string", "default": "x"}, "d": {"type": "array"},
                       "e": {"type": "object", "default": {}}},
        "required": ["a", "b", "d"],
        "additionalProperties": True,
    }


# ------------------------------------------------------------------------------------------ logging


def test_logging_gets_the_forwarder_when_first_imported():
    code = """
import sys
from snakepit_bridge.dispatch import logs
forwarding = logs.install()
assert "logging" not in sys.modules and forwarding.handler is None
sent = []
forwarding.send = sent.append
import logging, logging.handlers, importlib
assert logging.getLogger().handlers == [forwarding.handler] and logging.getLogger().level == logging.INFO
assert type(logging.__loader__).__name__ == "SourceFileLoader" and logging.__spec__.loader is logging.__loader__
assert not any(isinstance(f, logs._WhenImported) for f in sys.meta_path)
logging.getLogger("x").warning("hello %s", "there")
assert sent == [{"type": "log", "level": "warning", "logger": "x", "message": "hello there"}], sent
assert hasattr(logging.getLogger("x").makeRecord("x", 20, "f", 1, "m", (), None), "correlation_id")
importlib.reload(logging)  # the module's own loader does it
print("ok")
"""
    assert _fresh(code) == "ok"


def test_logging_imported_already_gets_the_forwarder_at_once():
    code = """
import logging
from snakepit_bridge.dispatch import logs
forwarding = logs.install()
assert logging.getLogger().handlers == [forwarding.handler]
forwarding.send = print
logging.getLogger("y").info("at once")
"""
    assert "'message': 'at once'" in _fresh(code)


def test_logging_loaded_past_the_finder_is_forwarded_once_the_worker_is_ready():
    # a finder put before ours (or a module loaded without sys.meta_path) skips the hook; ready installs it
    code = """
import sys, importlib.machinery, importlib.util
from snakepit_bridge.dispatch import logs
forwarding = logs.install()
spec = importlib.machinery.PathFinder.find_spec("logging")
module = importlib.util.module_from_spec(spec)
sys.modules["logging"] = module
spec.loader.exec_module(module)
assert forwarding.handler is None
forwarding.send = print
module.getLogger("z").warning("late")
"""
    assert "'message': 'late'" in _fresh(code)


# --------------------------------------------------------------------------------------------- heap


def test_trim_heap_runs_anywhere():
    assert trim_heap() in (True, False)  # glibc: whether it released pages; elsewhere False


def _fresh(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          cwd=PYTHON_DIR)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


# ------------------------------------------------------------------------------------- lazy imports


def test_the_template_and_a_worker_start_without_pickle():
    # pickle serves only session moves (dispatch/session_tools.py); the template's preload is what every forked
    # worker holds, and a cold worker imports the same before ``ready``
    code = """
import sys
from snakepit_bridge.template import Template
from snakepit_bridge.dispatch.tools import ToolTable
from snakepit_bridge.adapters.showcase import ShowcaseAdapter
opts = {"adapter": "snakepit_bridge.adapters.showcase:ShowcaseAdapter", "preload": ""}
assert Template(None, opts, None, None)._preload() is None
ToolTable(ShowcaseAdapter()).specs()
print(sorted(m for m in ("pickle", "argparse") if m in sys.modules))
"""
    assert _fresh(code) == "[]"


def test_a_session_still_moves_with_pickle_loaded_on_demand():
    code = """
import sys
from snakepit_bridge.dispatch.session_tools import session_export, session_import
from snakepit_bridge.sessions import STATES
STATES.store("s1", "k", {"v": 1})
out = session_export("s1")
assert "pickle" in sys.modules and out["values"] == 1, out
print(session_import("s2", out["state"])["values"])
"""
    assert _fresh(code) == "1"


# --------------------------------------------------------------------------- the start path, whole

# What a worker or a template must not import on its way to ``ready``: each is loaded on first use instead.
# inspect (with ast, dis, tokenize, linecache: a third of the bridge's import time) is replaced at start by
# snakepit_bridge/signature.py; typing by schema/hints.py's plain hints; ctypes (the parent-death signal and the
# heap trim) by dispatch/libc.py; queue (with heapq) by _queue's SimpleQueue; runpy is what ``-m`` would import,
# and the host starts the bridge with ``-c`` (src/worker/worker-spawn.ts).
# Nor signal (the worker and the template use _signal, the C module under it: signal.py builds enums of every
# signal), nor the bridge's own tools for references and session moves (dispatch/ref_tools.py, session_tools.py:
# loaded by the first call that names one). contextlib (telemetry.span and the worker's wait are small classes)
# is checked with an adapter of its own below: the showcase adapter imports importlib, which imports it.
HEAVY = ["inspect", "ast", "dis", "tokenize", "linecache", "typing", "pickle", "argparse", "logging", "traceback",
         "asyncio", "dataclasses", "concurrent.futures", "opentelemetry", "numpy", "ctypes", "queue", "heapq",
         "runpy", "signal", "snakepit_bridge.dispatch.ref_tools",
         "snakepit_bridge.dispatch.session_tools"]

START_PATH = """
import sys
own = set(sys.modules)  # what the interpreter loads by itself (site, .pth files) does not count
from snakepit_bridge.__main__ import main, parse_fast
from snakepit_bridge.template import Template
from snakepit_bridge.dispatch.startup import load_adapter_class, _import_adapter
from snakepit_bridge.dispatch.tools import ToolTable
from snakepit_bridge.dispatch.lifeline import Lifeline
from snakepit_bridge.dispatch.memory import trim_heap
from snakepit_bridge.dispatch.worker import Worker
Lifeline(99).arm()  # the parent-death signal, first thing in a cold worker
module, name, cls = load_adapter_class("%s")
adapter = cls()
adapter.initialize()
table = ToolTable(adapter)
specs = table.specs()
assert specs and all("input_schema" in s and "signature" in s for s in specs), specs
trim_heap()
print(sorted(m for m in %r if m in sys.modules and m not in own))
"""


@pytest.mark.parametrize("adapter", ["snakepit_bridge.adapters.showcase:ShowcaseAdapter",
                                     "snakepit_bridge.adapters.showcase.ShowcaseAdapter"])
def test_the_start_path_imports_nothing_heavy(adapter):
    # Python < 3.11 makes ``args: dict | None = None`` Optional through typing (see above)
    expected = ["typing"] if sys.version_info < (3, 11) else []
    assert _fresh(START_PATH % (adapter, HEAVY)) == str(expected)


def test_the_start_path_check_can_fail():
    # the same check sees a heavy module come back: a tool whose signature inspect must read (a decorated one)
    code = START_PATH.replace("adapter = cls()", """import functools
def deco(f):
    @functools.wraps(f)
    def wrapper(*a, **k):
        return f(*a, **k)
    return wrapper
cls.ping = deco(cls.ping)
adapter = cls()""") % ("snakepit_bridge.adapters.showcase:ShowcaseAdapter", HEAVY)
    assert "inspect" in _fresh(code)


PLAIN_ADAPTER = """
from snakepit_bridge import BaseAdapter, tool


class PlainAdapter(BaseAdapter):
    @tool
    def add(self, a: float, b: float = 1.0) -> float:
        return a + b
"""


def _fresh_with_plain_adapter(code: str, tmp_path) -> str:
    (tmp_path / "plain_adapter.py").write_text(PLAIN_ADAPTER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([PYTHON_DIR, str(tmp_path)]))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          cwd=PYTHON_DIR)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_a_plain_adapter_starts_without_contextlib(tmp_path):
    # the showcase adapter imports importlib, which imports contextlib: an adapter that does not, leaves it out
    code = START_PATH % ("plain_adapter:PlainAdapter", HEAVY + ["contextlib"])
    assert _fresh_with_plain_adapter(code, tmp_path) == "[]"


def test_the_start_path_check_sees_contextlib(tmp_path):
    code = (START_PATH % ("plain_adapter:PlainAdapter", HEAVY + ["contextlib"])).replace(
        "adapter = cls()", "import contextlib\nadapter = cls()")
    assert "contextlib" in _fresh_with_plain_adapter(code, tmp_path)


def test_datetime_is_not_imported_by_the_bridge(tmp_path):
    # msgpack imports datetime itself (msgpack/ext.py), so only a worker without msgpack shows it: the JSON codec's
    # start path must not load it (the codecs look a date's module up in sys.modules; a received date imports it)
    code = START_PATH.replace("import sys\n", "import sys\nsys.modules['msgpack'] = None\n", 1) % (
        "plain_adapter:PlainAdapter", HEAVY + ["datetime", "msgpack"])
    assert _fresh_with_plain_adapter(code, tmp_path) == "[]"


def test_dates_still_travel_and_convert_with_datetime_loaded_late():
    code = """
import sys
sys.modules['msgpack'] = None
from snakepit_bridge.channel.codec import make_codec
from snakepit_bridge.schema.convert import converter, class_schema
from snakepit_bridge.schema import type_schema
codec = make_codec("json")
assert "datetime" not in sys.modules
from snakepit_bridge.channel.values import from_tag
value = from_tag({"__snakepit__": "datetime", "value": "2024-05-06T07:08:09Z"}, ())
import datetime
assert value == datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc), value
back = codec.decode(codec.encode({"d": value, "day": datetime.date(2024, 5, 6), "t": datetime.time(1, 2),
                                  "span": datetime.timedelta(seconds=90)}))
assert back["d"] == value, back  # a datetime travels tagged and is read back as one
assert back["day"] == "2024-05-06" and back["t"] == "01:02:00" and back["span"] == 90.0, back
assert converter(datetime.date)("2024-05-06T00:00:00") == datetime.date(2024, 5, 6)
assert converter(datetime.timedelta)(2) == datetime.timedelta(seconds=2)
assert type_schema(datetime.datetime) == {"type": "string", "format": "date-time"}, type_schema(datetime.datetime)
assert type_schema(datetime.timedelta)["type"] == "number"
print("ok")
"""
    assert _fresh(code) == "ok"


def test_the_builtin_tool_names_are_ref_tools():
    from snakepit_bridge.dispatch import invoke, ref_tools

    assert invoke.BUILTIN_NAMES == frozenset(ref_tools.BUILTIN_TOOLS)


def test_telemetry_span_is_a_context_manager_and_a_decorator():
    from snakepit_bridge import telemetry

    sent = []
    telemetry._attach(sent.append)
    try:
        with telemetry.span("a.b", {"k": 1}) as inside:
            assert inside is None
        with pytest.raises(ValueError):
            with telemetry.span(["a", "c"]):
                raise ValueError("no")

        @telemetry.span("a.d")
        def twice(x):
            return x * 2

        assert twice(4) == 8 and twice.__name__ == "twice"
    finally:
        telemetry._attach(None)
    names = [(m["name"], m.get("metadata")) for m in sent]
    assert names == [(["a", "b", "start"], {"k": 1}), (["a", "b", "stop"], {"k": 1}),
                     (["a", "c", "start"], {}), (["a", "c", "exception"], {"kind": "ValueError", "reason": "no"}),
                     (["a", "d", "start"], {}), (["a", "d", "stop"], {})], names
    assert all("duration" in m["measurements"] for m in sent if m["name"][-1] != "start")
