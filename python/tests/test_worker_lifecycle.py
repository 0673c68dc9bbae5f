"""End to end: start-up failures, shutdown, end of file, handshake errors."""

from __future__ import annotations

import os
import time

import pytest

from fakehost import FakeHost


def test_adapter_that_raises_at_import(make_host):
    host = make_host(adapter="broken_import:Adapter")
    assert host.hello["type"] == "hello"  # hello comes before the adapter is imported
    fatal = host.ready
    assert fatal["type"] == "fatal" and fatal["phase"] == "import"
    assert fatal["error"]["type"] == "RuntimeError" and fatal["error"]["message"] == "boom at import"
    assert "broken_import.py" in fatal["error"]["traceback"] and "_load_model" in fatal["error"]["traceback"]
    assert host.exit_code() == 3
    # The host got the traceback and logs it once per pool: stderr does not repeat it once per worker.
    assert "Traceback" not in host.err()


@pytest.mark.parametrize("adapter,error_type", [
    ("no_such_module_here:Adapter", "ModuleNotFoundError"),
    ("fixture_adapters:NoSuchClass", "AttributeError"),
])
def test_adapter_that_cannot_be_found(make_host, adapter, error_type):
    host = make_host(adapter=adapter)
    assert host.ready["type"] == "fatal" and host.ready["phase"] == "import"
    assert host.ready["error"]["type"] == error_type
    assert host.exit_code() == 3


def test_adapter_whose_initialize_raises(make_host):
    host = make_host(adapter="fixture_adapters:BrokenInitAdapter")
    assert host.ready["type"] == "fatal" and host.ready["phase"] == "initialize"
    assert "cannot initialize" in host.ready["error"]["traceback"]
    assert host.exit_code() == 3


def test_shutdown_runs_cleanup_and_says_bye(make_host, tmp_path):
    marker = tmp_path / "cleanup.txt"
    host = make_host(adapter="fixture_adapters:LifecycleAdapter", env={"FIXTURE_CLEANUP_FILE": str(marker)})
    assert host.run("was_initialized") is True
    host.send({"type": "shutdown", "grace_ms": 2000})
    assert host.recv() == {"type": "bye"}
    assert host.exit_code() == 0
    assert marker.read_text() == "cleaned up"  # async cleanup() ran


def test_shutdown_cancels_open_async_calls(make_host):
    host = make_host(adapter="fixture_adapters:AsyncAdapter")
    call_id = host.call("asleep", {"seconds": 10})
    time.sleep(0.1)
    host.send({"type": "shutdown", "grace_ms": 2000})
    msg = host.recv()
    assert msg["id"] == call_id and msg["error"]["kind"] == "cancelled"
    assert msg["error"]["details"] == {"reason": "shutdown"}
    assert host.recv() == {"type": "bye"}
    assert host.exit_code() == 0


def test_end_of_file_exits_0_promptly(host):
    started = time.monotonic()
    host.sock.close()
    assert host.exit_code() == 0
    assert time.monotonic() - started < 1.0


def test_end_of_file_during_a_long_tool_exits_promptly(host):
    host.call("sleep", {"seconds": 30})
    time.sleep(0.1)
    started = time.monotonic()
    host.sock.close()
    assert host.exit_code() == 0
    assert time.monotonic() - started < 2.0


def test_end_of_file_before_welcome_exits_0(codec):
    host = FakeHost(codec=codec, handshake=False)
    try:
        assert host.recv()["type"] == "hello"
        host.sock.close()
        assert host.exit_code() == 0
    finally:
        host.close()


@pytest.mark.parametrize("welcome", [
    {"type": "welcome", "protocol": 2, "codec": "json", "max_frame_bytes": 1 << 20},
    {"type": "welcome", "protocol": 1, "codec": "xml", "max_frame_bytes": 1 << 20},
    {"type": "call", "id": 1},
])
def test_bad_welcome_exits_4(codec, welcome):
    host = FakeHost(codec=codec, handshake=False)
    try:
        host.recv()
        host.send(welcome)
        assert host.exit_code() == 4
        assert "handshake" in host.err()
    finally:
        host.close()


def test_msgpack_welcome_to_a_json_only_worker_exits_4():
    host = FakeHost(codec="json", args=("--codec", "json"), handshake=False)
    try:
        assert host.recv()["codecs"] == ["json"]
        host.send({"type": "welcome", "protocol": 1, "codec": "msgpack"})
        assert host.exit_code() == 4
    finally:
        host.close()


def test_channel_fd_is_not_inherited_by_children(make_host):
    host = make_host(adapter="fixture_adapters:ToolsAdapter")
    pid = host.proc.pid
    fd3 = os.readlink("/proc/%d/fd/3" % pid) if os.path.exists("/proc/%d/fd/3" % pid) else None
    if fd3 is None:
        pytest.skip("needs /proc to inspect the worker's descriptors")
    with open("/proc/%d/fdinfo/3" % pid) as fh:
        flags = int([line for line in fh if line.startswith("flags:")][0].split()[1], 8)
    assert flags & 0o2000000  # O_CLOEXEC
