"""The thread profile's Python side: the worker's thread pool (welcome ``threads``), the declaration it requires,
ThreadSafeAdapter and @thread_safe_method, the checker and its library table, free-threaded detection."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time

from snakepit_bridge import runtime
from snakepit_bridge.base_adapter import BaseAdapter, discover_tools, tool
from snakepit_bridge.base_adapter_threaded import ThreadSafeAdapter, thread_safe_method
from snakepit_bridge.thread_safety_checker import (LIBRARIES, ThreadSafetyChecker, ThreadSafetyError,
                                                   adapter_thread_safety, unsafe_libraries_loaded,
                                                   warn_unsafe_libraries)


def test_sync_calls_overlap_on_the_thread_pool(make_host):
    host = make_host(welcome={"threads": 4})
    t0 = time.monotonic()
    ids = [host.call("sleep", {"seconds": 0.5}) for _ in range(4)]
    for call_id in ids:
        assert host.wait(call_id)[0]["type"] == "result"
    assert time.monotonic() - t0 < 1.5  # together 0.5 s; one at a time would take 2 s
    assert host.run("ping")["status"] == "ok"


def test_pool_threads_answer_in_the_order_calls_finish_and_wait_finds_each(make_host):
    # Calls on the pool end in any order: the short one is answered first, not held behind the long one.
    # FakeHost.wait must keep an answer that arrives while it waits for another call (it used to drop it, so
    # waiting for the calls in the order they were sent hung under load).
    host = make_host(welcome={"threads": 2})
    slow = host.call("sleep", {"seconds": 0.5})
    fast = host.call("sleep", {"seconds": 0})
    answer, _ = host.wait(slow, timeout=5)
    assert answer["type"] == "result" and answer["value"] == 0.5
    answer, _ = host.wait(fast, timeout=2)
    assert answer["type"] == "result" and answer["value"] == 0
    assert host.answered == {}
    assert host.run("ping")["status"] == "ok"


def test_a_cancel_interrupts_python_code_on_a_pool_thread(make_host):
    host = make_host(adapter="threaded_adapters:ThreadedAdapter", welcome={"threads": 2})
    call_id = host.call("interruptible", {"seconds": 10})
    time.sleep(0.2)
    host.send({"type": "cancel", "id": call_id, "reason": "timeout"})
    answer, _ = host.wait(call_id, timeout=3)
    assert answer["type"] == "error" and "cancelled (timeout)" in answer["error"]["message"]


def test_an_undeclared_adapter_is_refused(make_host):
    host = make_host(adapter="threaded_adapters:UndeclaredAdapter", welcome={"threads": 2})
    fatal = host.ready
    assert fatal["type"] == "fatal" and "__thread_safe__" in fatal["error"]["message"]


class _Counter(ThreadSafeAdapter):
    __thread_safe__ = True

    def __init__(self):
        super().__init__()
        self.count = 0

    @thread_safe_method
    @tool(description="add one")
    def increment(self) -> int:
        with self.acquire_lock():
            self.count += 1
            return self.count


def test_thread_safe_adapter_lock_counts_and_keeps_tool_metadata():
    adapter = _Counter()
    threads = [threading.Thread(target=lambda: [adapter.increment() for _ in range(1000)]) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert adapter.count == 10_000
    stats = adapter.get_stats_dict()
    assert stats["total"] == 10_000 and stats["active"] == 0 and stats["max_concurrent"] >= 1
    assert list(discover_tools(adapter)) == ["increment"]  # @tool survives the wrapper


def test_thread_local_values_are_per_thread():
    adapter = _Counter()
    seen = {}

    def work(n):
        adapter.set_thread_local("n", n)
        time.sleep(0.01)
        seen[n] = adapter.get_thread_local("n")
        assert adapter.get_thread_local("fresh", []) == []

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {n: n for n in range(8)}


def test_declarations():
    class Yes(BaseAdapter):
        __thread_safe__ = True

    class No(BaseAdapter):
        __thread_safe__ = False

    class Silent(ThreadSafeAdapter):  # the base class declares nothing: a subclass must
        pass

    assert adapter_thread_safety(Yes()) is True
    assert adapter_thread_safety(No()) is False
    assert adapter_thread_safety(Silent()) is None
    assert adapter_thread_safety(type("Odd", (), {"__thread_safe__": "yes"})()) is None  # only a bool counts


def test_checker_flags_overlap_on_an_undeclared_adapter_and_strict_mode_raises():
    class Undeclared:
        @thread_safe_method
        def slow(self):
            time.sleep(0.05)

    checker = ThreadSafetyChecker(enabled=True)
    try:
        threads = [threading.Thread(target=Undeclared().slow) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report = checker.get_report()
        assert report["methods"]["slow"]["max_concurrent"] > 1
        assert any("slow" in w for w in report["warnings"])
    finally:
        checker.close()
    strict = ThreadSafetyChecker(enabled=True, strict_mode=True)
    errors = []

    def run():
        try:
            Undeclared().slow()
        except ThreadSafetyError as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        strict.close()
    assert errors


def test_library_table_warnings():
    assert unsafe_libraries_loaded({"pandas": object(), "numpy": object()}) == ["pandas"]

    class Sink:
        text = ""

        def write(self, s):
            Sink.text += s

    assert warn_unsafe_libraries({"sqlite3": object()}, out=Sink()) == ["sqlite3"]
    assert "sqlite3" in Sink.text and "not thread-safe" in Sink.text


def test_library_table_rechecked_sqlite3_refuses_other_threads():
    # The table says a sqlite3 connection refuses other threads by default: checked here, not taken on trust.
    assert LIBRARIES["sqlite3"][0] is False
    conn = sqlite3.connect(":memory:")
    errors = []

    def use():
        try:
            conn.execute("select 1")
        except sqlite3.ProgrammingError as exc:
            errors.append(exc)

    t = threading.Thread(target=use)
    t.start()
    t.join()
    assert errors


def test_free_threaded_detection_on_this_interpreter():
    # CPython builds on these machines keep the GIL; a 3.13t build would answer True / False.
    assert runtime.free_threaded_build() is ("t" in getattr(sys, "abiflags", ""))
    assert runtime.gil_enabled() is True
