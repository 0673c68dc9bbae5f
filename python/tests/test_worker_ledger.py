"""The ledger (dispatch/ledger.py): which calls began, and the frames buffered but not yet sent, recorded where the
host can read them after the worker died; and ``withdraw``, which gives back calls that have not begun."""

from __future__ import annotations

import mmap
import os
import struct
import tempfile
import time

import pytest

from snakepit_bridge.channel.framing import frame
from snakepit_bridge.dispatch.calls import Call, CallTable
from snakepit_bridge.dispatch.ledger import Ledger

SLOTS, OUTBOX, SIZE = 64, 4096, 4096 + 8192


def make_ledger_file() -> int:
    """A ledger file as the host makes it: sparse, with its header; returns an open descriptor."""
    fd, path = tempfile.mkstemp(prefix="ledger-")
    os.unlink(path)
    os.ftruncate(fd, OUTBOX + SIZE)
    os.pwrite(fd, struct.pack("<4sIII", b"SPL1", SLOTS, OUTBOX, SIZE), 0)
    return fd


def read_ledger(fd: int):
    data = os.pread(fd, OUTBOX + SIZE, 0)
    end, attached, base = struct.unpack_from("<IIQ", data, 16)
    begun = struct.unpack_from("<%dq" % SLOTS, data, 64)
    return {"attached": attached, "begun": begun, "ring": data[OUTBOX:OUTBOX + end], "base": base}


@pytest.fixture
def ledger_fd():
    fd = make_ledger_file()
    yield fd
    os.close(fd)


def test_a_ledger_that_is_not_one_is_refused():
    fd, path = tempfile.mkstemp()
    os.unlink(path)
    os.ftruncate(fd, 8192)
    with pytest.raises(ValueError, match="not a snakepit ledger"):
        Ledger(fd)
    os.close(fd)


def test_start_records_the_call_id_in_its_slot_before_it_runs(ledger_fd):
    ledger = Ledger(os.dup(ledger_fd))
    table = CallTable(ledger)
    call = Call({"id": 41, "tool": "t", "slot": 5})
    table.add(call)
    assert read_ledger(ledger_fd)["begun"][5] == 0
    assert table.start(call, "sync")
    state = read_ledger(ledger_fd)
    assert state["attached"] == 1 and state["begun"][5] == 41


def test_a_slot_outside_the_ledger_is_ignored(ledger_fd):
    table = CallTable(Ledger(os.dup(ledger_fd)))
    for bad in (SLOTS, "3", 2.5):
        call = Call({"id": 1, "tool": "t", "slot": bad})
        table.add(call)
        assert table.start(call, "sync")  # runs; nothing is recorded for it
        table.finish(call)
    assert read_ledger(ledger_fd)["begun"] == (0,) * SLOTS


def test_withdraw_gives_back_only_calls_that_have_not_begun():
    table = CallTable()
    running, waiting, cancelled = (Call({"id": i, "tool": "t"}) for i in (1, 2, 3))
    for call in (running, waiting, cancelled):
        table.add(call)
    table.start(running, "sync")
    table.cancel(3, "timeout")
    assert table.withdraw([1, 2, 3, 99]) == [2]
    assert not table.start(waiting, "sync")  # the main thread skips it
    assert table.get(2) is None and table.get(1) is running


def test_the_ring_keeps_the_last_frames_numbered_by_their_channel_offset(ledger_fd):
    ring = Ledger(os.dup(ledger_fd)).outbox
    a, b, c = frame(b"a" * 10), frame(b"b" * 20), frame(b"c" * 30)
    ring.append(a)
    ring.append(b)
    assert read_ledger(ledger_fd)["ring"] == a + b and read_ledger(ledger_fd)["base"] == 0
    big = frame(b"x" * (SIZE - len(a + b) - 4))  # fills the ring exactly
    ring.append(big)
    ring.append(c)  # does not fit: the ring starts over at c's offset
    state = read_ledger(ledger_fd)
    assert state["ring"] == c and state["base"] == len(a + b + big)
    ring.skip(1000)  # a large frame written without a copy: the ring starts over after it
    ring.append(a)
    state = read_ledger(ledger_fd)
    assert state["ring"] == a and state["base"] == len(a + b + big + c) + 1000


def test_a_worker_numbers_its_frames_from_the_start_of_the_channel(make_host, ledger_fd):
    host = make_host(ledger_fd=ledger_fd)
    host.run("echo", {"x": 1})
    state = read_ledger(ledger_fd)
    # hello, ready and the result: all written through the connection, all counted (the ring may start later).
    assert state["base"] + len(state["ring"]) > 0
    assert state["ring"].endswith(frame(host.codec.encode({"type": "result", "id": 1, "value": {"x": 1}})))


def test_a_worker_records_begun_calls_and_gives_back_those_waiting_behind_a_long_one(make_host, ledger_fd):
    host = make_host(ledger_fd=ledger_fd)
    long_id = host.call("sleep", {"seconds": 0.4}, slot=0)
    waiting = [host.call("echo", {"x": i}, slot=1 + i) for i in range(3)]
    time.sleep(0.1)  # the long call runs; the watchdog reads meanwhile
    state = read_ledger(ledger_fd)
    assert state["attached"] == 1 and state["begun"][0] == long_id and state["begun"][1:4] == (0, 0, 0)
    host.send({"type": "withdraw", "ids": [long_id, *waiting]})
    assert host.expect("withdrawn")["ids"] == waiting
    msg, _ = host.wait(long_id)
    assert msg["type"] == "result"
    assert host.run("echo", {"after": 1}) == {"after": 1}  # the withdrawn calls were never answered


def test_without_a_ledger_calls_run_as_before(make_host):
    host = make_host()
    assert host.run("echo", {"x": 1}, slot=3) == {"x": 1}


def test_what_a_worker_writes_once_the_host_closed_the_channel_is_not_recorded(make_host, ledger_fd):
    # End of file makes the worker cancel what runs ("shutdown") and answer it: an answer to a cancel the host never
    # sent, written after the host stopped listening. The host may still read the ledger (it broke the channel and
    # its SIGKILL is on the way), so such frames must not be there for it to deliver.
    host = make_host(ledger_fd=ledger_fd)
    call_id = host.call("sleep", {"seconds": 30}, slot=0)
    deadline = time.monotonic() + 10
    while read_ledger(ledger_fd)["begun"][0] != call_id:  # the call runs
        assert time.monotonic() < deadline, "the call never began"
        time.sleep(0.01)
    before = read_ledger(ledger_fd)
    host.sock.close()
    assert host.exit_code(10) == 0  # it saw end of file, cancelled the call and left
    after = read_ledger(ledger_fd)
    # Not the call's "cancelled" error, nor anything else: the ring is as the host last saw it live.
    assert (after["base"], after["ring"]) == (before["base"], before["ring"])
