"""The call table's one-terminal-frame rule without a lock on the answer path: ``finish`` is one ``dict.pop``
and ``add`` one ``dict.setdefault`` (dispatch/calls.py), so these check that every way a call can end still
ends it exactly once, from any number of threads."""

from __future__ import annotations

import threading

import pytest

from snakepit_bridge.channel.framing import ProtocolError
from snakepit_bridge.dispatch.calls import DONE, QUEUED, RUNNING, SYNC, Call, CallTable


def test_finish_succeeds_once():
    table = CallTable()
    call = Call({"id": 1, "tool": "t"})
    table.add(call)
    assert table.finish(call) and call.state is DONE and len(table) == 0
    assert not table.finish(call)


def test_an_open_id_cannot_be_added_twice_but_a_finished_one_can_come_back():
    table = CallTable()
    first = Call({"id": 7, "tool": "t"})
    table.add(first)
    with pytest.raises(ProtocolError, match="already open"):
        table.add(Call({"id": 7, "tool": "t"}))
    assert table.get(7) is first  # the open call is untouched
    assert table.finish(first)
    again = Call({"id": 7, "tool": "t"})
    table.add(again)
    assert not table.finish(first)  # the old record cannot end the new call
    assert table.get(7) is again


def test_a_withdrawn_call_is_neither_started_nor_answered():
    table = CallTable()
    call = Call({"id": 3, "tool": "t"})
    table.add(call)
    assert table.withdraw([3]) == [3]
    assert not table.start(call, SYNC)
    assert not table.finish(call)


def test_a_started_call_is_not_withdrawn():
    table = CallTable()
    call = Call({"id": 4, "tool": "t"})
    table.add(call)
    assert table.start(call, SYNC) and call.state is RUNNING
    assert table.withdraw([4]) == []
    assert table.finish(call)


def test_a_cancelled_queued_call_is_answered_by_the_canceller_and_never_starts():
    table = CallTable()
    call = Call({"id": 5, "tool": "t"})
    table.add(call)
    assert table.cancel(5, "abort") == (call, QUEUED, None)
    assert table.finish(call)  # the reader answers it
    assert not table.start(call, SYNC)


def test_many_threads_finishing_the_same_calls_win_once_each():
    table = CallTable()
    calls = [Call({"id": i, "tool": "t"}) for i in range(2000)]
    for call in calls:
        table.add(call)
    wins = []
    barrier = threading.Barrier(4)

    def race():
        barrier.wait()
        mine = [call.id for call in calls if table.finish(call)]
        wins.append(mine)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended = [call_id for mine in wins for call_id in mine]
    assert sorted(ended) == list(range(2000))  # each call ended by exactly one thread
    assert len(table) == 0
