"""Shared fixtures: the codec parameter (msgpack and JSON) and fake hosts that clean up after themselves.

An optional package that is missing skips its cases with the reason printed (``-rs``); with
SNAKEPIT_REQUIRE_OPTIONAL=1 (CI), a missing optional package fails instead.
"""

from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "fixtures"))

from fakehost import FakeHost  # noqa: E402
from snakepit_bridge.channel.codec import available_codecs  # noqa: E402

REQUIRE_OPTIONAL = os.environ.get("SNAKEPIT_REQUIRE_OPTIONAL") == "1"


def require_optional(package: str) -> None:
    """Skip (or, under SNAKEPIT_REQUIRE_OPTIONAL=1, fail) when ``package`` is not importable."""
    if package == "msgpack" and "msgpack" in available_codecs():
        return
    try:
        __import__(package)
        return
    except ImportError:
        pass
    reason = "optional package %r is not importable by %s" % (package, sys.executable)
    if REQUIRE_OPTIONAL:
        pytest.fail(reason + " and SNAKEPIT_REQUIRE_OPTIONAL=1")
    pytest.skip(reason)


@pytest.fixture(params=["msgpack", "json"])
def codec(request) -> str:
    """Each test that uses it runs once per codec."""
    if request.param == "msgpack":
        require_optional("msgpack")
    return request.param


@pytest.fixture
def make_host(codec):
    """Start workers with ``make_host(adapter=..., ...)``; all are stopped after the test."""
    hosts = []

    def make(**kwargs) -> FakeHost:
        kwargs.setdefault("codec", codec)
        host = FakeHost(**kwargs)
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.close()


@pytest.fixture
def host(make_host) -> FakeHost:
    """A worker running the ShowcaseAdapter."""
    return make_host()
