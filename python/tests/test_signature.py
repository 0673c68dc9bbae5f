"""``snakepit_bridge.signature`` against ``inspect``, which it replaces at start-up: on generated functions (every
parameter kind, defaults, annotations as objects and as strings), methods, wrappers, docstrings and awaitables."""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
import types
import typing

import pytest
from hypothesis import assume, given, settings, strategies as st

from snakepit_bridge import signature as lite


class _Text:
    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _inspect_text(name, func):
    """What the bridge printed before: inspect's signature with each annotation replaced by its text."""
    sig = inspect.signature(func)
    params = [p.replace(annotation=_Text(lite.annotation_text(p.annotation))) if p.annotation is not p.empty else p
              for p in sig.parameters.values()]
    ret = sig.return_annotation
    ret = _Text(lite.annotation_text(ret)) if ret is not sig.empty else ret
    return name + str(sig.replace(parameters=params, return_annotation=ret))


def _same(func):
    ours, theirs = lite.signature(func), inspect.signature(func)
    assert [(p.name, p.kind) for p in ours.parameters.values()] == \
        [(p.name, p.kind.name.lower()) for p in theirs.parameters.values()]
    for p in theirs.parameters.values():
        q = ours.parameters[p.name]
        assert (q.default is lite.EMPTY) == (p.default is p.empty)
        if p.default is not p.empty:
            assert q.default is p.default
        assert (q.annotation is lite.EMPTY) == (p.annotation is p.empty)
        if p.annotation is not p.empty:
            assert q.annotation is p.annotation
    assert (ours.return_annotation is lite.EMPTY) == (theirs.return_annotation is theirs.empty)
    assert ours.text("f") == _inspect_text("f", func)
    assert lite.function_kind(func) == (inspect.isgeneratorfunction(func), inspect.iscoroutinefunction(func),
                                        inspect.isasyncgenfunction(func))
    assert lite.getdoc(func) == inspect.getdoc(func)


# ------------------------------------------------------------------------------ generated functions

NAMES = st.sampled_from(["a", "b", "c", "d", "e", "params", "stream", "x_1", "ñ"])
DEFAULTS = st.one_of(st.integers(-5, 5), st.text(max_size=3), st.none(), st.just((1, "a")), st.floats(-1, 1),
                     st.just(float("nan")), st.booleans())
ANNOTATIONS = st.sampled_from(["int", "str", "'int'", "list[int]", "typing.Optional[int]", "int | None",
                               "typing.List[str]", "dict", "Local", "bytes", "None", "typing.Any"])
PREFIX = st.sampled_from(["def", "async def"])


class Local:
    pass


@st.composite
def functions(draw, future=False):
    names = draw(st.lists(NAMES, unique=True, max_size=7))
    cut1, cut2 = sorted(draw(st.lists(st.integers(0, len(names)), min_size=2, max_size=2)))
    posonly, positional, kwonly = names[:cut1], names[cut1:cut2], names[cut2:]
    env = {"typing": typing, "Local": Local}

    def param(name, may_lack_default):
        text = name
        if draw(st.booleans()):
            text += ": " + draw(ANNOTATIONS)
        if not may_lack_default or draw(st.booleans()):
            env["_d_" + name] = draw(DEFAULTS)
            text += " = _d_" + name
            return text, True
        return text, False

    parts, defaulted = [], False
    for name in posonly + positional:  # after a default, every positional parameter needs one
        text, has = param(name, not defaulted)
        defaulted = defaulted or has
        parts.append(text)
        if name == (posonly or [None])[-1]:
            parts.append("/")
    star = draw(st.sampled_from(["", "*args", "*args: int"]))
    if star or kwonly:
        parts.append(star or "*")
    parts += [param(name, True)[0] for name in kwonly]
    if draw(st.booleans()):
        parts.append("**kw: str" if draw(st.booleans()) else "**kw")
    ret = " -> " + draw(ANNOTATIONS) if draw(st.booleans()) else ""
    body = draw(st.sampled_from(["pass", "yield 1", '"""Doc.\n\n    More text.\n    """']))
    source = "%s%s f(%s)%s:\n    %s\n" % ("from __future__ import annotations\n" if future else "", draw(PREFIX),
                                          ", ".join(parts), ret, body)
    try:
        exec(compile(source, "<generated>", "exec"), env)
    except TypeError:  # ``int | None`` evaluated on Python < 3.10
        assume(sys.version_info < (3, 10) and "|" in source)
    return env["f"]


@settings(max_examples=150, deadline=None)
@given(functions())
def test_generated_functions(func):
    _same(func)


@settings(max_examples=150, deadline=None)
@given(functions(future=True))
def test_generated_functions_with_string_annotations(func):
    _same(func)


@settings(max_examples=100, deadline=None)
@given(functions(), st.booleans())
def test_generated_methods(func, on_class):
    cls = type("C", (), {"m": func})
    method = cls().m if not on_class else types.MethodType(func, cls)
    try:
        theirs = inspect.signature(method)
    except ValueError:  # nothing to bind self to: inspect refuses, and so do we
        with pytest.raises(ValueError):
            lite.signature(method)
        return
    ours = lite.signature(method)
    assert [(p.name, p.kind) for p in ours.parameters.values()] == \
        [(p.name, p.kind.name.lower()) for p in theirs.parameters.values()]
    assert ours.text("m") == _inspect_text("m", method)
    assert lite.function_kind(method) == (inspect.isgeneratorfunction(method), inspect.iscoroutinefunction(method),
                                          inspect.isasyncgenfunction(method))


# ------------------------------------------------------------------------- what goes to inspect


def _decorated(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


@_decorated
def _wrapped(a: int, b: str = "x") -> bool:
    """Wrapped."""


def _with_signature(*args):
    pass


_with_signature.__signature__ = inspect.Signature([inspect.Parameter("q", inspect.Parameter.KEYWORD_ONLY)])


class _Callable:
    def __call__(self, a, *, b=1):
        pass


class _Partials:
    def base(self, a, b, c=3):
        pass

    part = functools.partialmethod(base, 1)


@pytest.mark.parametrize("func", [_wrapped, _with_signature, _Callable(), functools.partial(_wrapped, 1), len,
                                  _Partials().part, dict.get, asyncio.sleep])
def test_everything_else_is_what_inspect_says(func):
    ours, theirs = lite.signature(func), inspect.signature(func)
    assert [(p.name, p.kind) for p in ours.parameters.values()] == \
        [(p.name, p.kind.name.lower()) for p in theirs.parameters.values()]
    assert ours.text("f") == _inspect_text("f", func)
    assert lite.function_kind(func) == (inspect.isgeneratorfunction(func), inspect.iscoroutinefunction(func),
                                        inspect.isasyncgenfunction(func))
    assert lite.getdoc(func) == inspect.getdoc(func)


def test_a_callable_without_a_signature_raises_as_inspect_does():
    for bad in (1, type):
        with pytest.raises((TypeError, ValueError)):
            inspect.signature(bad)
        with pytest.raises((TypeError, ValueError)):
            lite.signature(bad)


# ------------------------------------------------------------------------------------ docstrings


class _Base:
    def run(self):
        """The base's text.

            indented
        """

    @classmethod
    def make(cls):
        """Make one."""


class _Child(_Base):
    def run(self):
        pass

    @classmethod
    def make(cls):
        pass


@pytest.mark.parametrize("func", [_Child().run, _Child.make, _Child.run, _Base().run, _wrapped, print])
def test_getdoc_finds_what_inspect_finds(func):
    assert lite.getdoc(func) == inspect.getdoc(func)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["", " ", "  ", "\t", "x", " y", "\tz ", "  w  w", "\u00a0", "\n"]), max_size=8))
def test_cleandoc(parts):
    doc = "\n".join(parts)
    assert lite.cleandoc(doc) == inspect.cleandoc(doc)


# ------------------------------------------------------------------------------------ awaitables


class _AwaitMe:
    def __await__(self):
        yield


@types.coroutine
def _old_style():
    yield


def _gen():
    yield


async def _coro():
    pass


def test_is_awaitable():
    coro = _coro()
    try:
        for value in (coro, _AwaitMe(), _old_style(), _gen(), 1, None, [], asyncio.sleep):
            assert lite.is_awaitable(value) == inspect.isawaitable(value), value
    finally:
        coro.close()


def test_unwrap():
    assert lite.unwrap(_wrapped) is inspect.unwrap(_wrapped)
    loop = types.SimpleNamespace()
    loop.__wrapped__ = loop
    with pytest.raises(ValueError):
        lite.unwrap(loop)
