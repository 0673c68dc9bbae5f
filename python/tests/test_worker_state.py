"""The worker's lifecycle (dispatch/worker_api.py ``WorkerState``): it only moves forward, and each state is what
the engine acts on (STOPPING unwinds a call's wait before the shutdown runs; HOST_GONE ends waits)."""

from __future__ import annotations

import pytest

from snakepit_bridge.dispatch.worker import Worker
from snakepit_bridge.dispatch.worker_api import WorkerState

TOOLS = "fixture_adapters:ToolsAdapter"


class _Options:
    ledger_fd = None


def _worker() -> Worker:
    return Worker(conn=None, options=_Options())


def test_a_new_worker_is_starting_and_the_state_only_moves_forward():
    worker = _worker()
    assert worker.state is WorkerState.STARTING
    worker.mark_ready()
    assert worker.state is WorkerState.SERVING
    worker.host_gone()
    assert worker.state is WorkerState.HOST_GONE
    worker.advance(WorkerState.STOPPING)  # a shutdown read after end of file changes nothing
    assert worker.state is WorkerState.HOST_GONE
    worker.mark_ready()
    assert worker.state is WorkerState.HOST_GONE
    worker._exit(0)
    assert worker.state is WorkerState.EXITED and worker.exit_code == 0


@pytest.mark.parametrize("state", [WorkerState.STOPPING, WorkerState.HOST_GONE, WorkerState.EXITED])
def test_a_wait_inside_a_call_stops_once_the_worker_stops(state):
    from snakepit_bridge.errors import CallCancelled

    worker = _worker()
    worker.mark_ready()
    worker.advance(state)
    with pytest.raises(CallCancelled) as raised:
        worker._check_pump(None)
    assert raised.value.reason == "shutdown"


def test_a_shutdown_during_a_host_tool_wait_unwinds_that_call_then_says_bye(make_host):
    host = make_host(adapter=TOOLS)
    call_id = host.call("call_host", {"name": "never_answered"})
    msg = host.recv()
    assert msg["type"] == "host_call"  # the tool now waits inside pump_until (a nested wait)
    host.send({"type": "shutdown", "grace_ms": 2000})
    answer = host.recv()
    assert answer["id"] == call_id and answer["type"] == "error", answer
    assert answer["error"]["kind"] == "cancelled"
    assert host.recv() == {"type": "bye"}
    assert host.exit_code() == 0
