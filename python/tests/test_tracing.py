"""The worker continues the host's trace (W3C context in the call's ``trace`` field) when the OpenTelemetry
API is importable, and stamps log records and frames with the call's correlation id. The spans are recorded by
an in-memory provider written against the API (fixtures/otel_recording.py): the SDK is not needed."""

from __future__ import annotations

from conftest import require_optional

TRACED = "otel_recording:TracedAdapter"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b7ad6b7169203331"
TRACE = {"traceparent": "00-%s-%s-01" % (TRACE_ID, PARENT), "tracestate": "vendor=abc"}


def _spans(host):
    return [s for s in host.run("spans", {"clear": True}) if s["name"] != "default/spans"]


def test_a_call_with_a_trace_context_runs_in_a_child_span(make_host):
    require_optional("opentelemetry")
    host = make_host(adapter=TRACED, args=["--pool", "p1", "--run-id", "run9"])
    assert host.run("otel") == {"recording": True, "available": True}
    report = host.run("work", {"label": "sync"}, trace=TRACE)
    spans = {s["name"]: s for s in _spans(host)}
    server = spans["p1/work"]
    assert server["kind"] == "SERVER" and server["trace_id"] == TRACE_ID
    assert server["parent_span_id"] == PARENT and server["parent_remote"] is True
    assert server["trace_state"] == "vendor=abc"
    assert server["attributes"] == {
        "rpc.system": "snakepit", "rpc.service": "p1", "rpc.method": "work", "snakepit.pool": "p1",
        "snakepit.tool": "work", "snakepit.call_id": 2, "snakepit.worker": "test-1",
        "snakepit.correlation_id": "run9-2"}
    assert report["outer"] == {"trace_id": TRACE_ID, "span_id": server["span_id"]}
    assert spans["inner.sync"]["parent_span_id"] == server["span_id"]
    assert report["correlation_id"] == "run9-2"


def test_async_stream_and_error_calls_are_traced(make_host):
    require_optional("opentelemetry")
    host = make_host(adapter=TRACED)
    report = host.run("awork", trace=TRACE)
    call_id = host.call("swork", {"n": 2}, stream=True, trace=TRACE)
    end, chunks = host.wait(call_id)
    assert end["type"] == "result" and len(chunks) == 2
    _, info = host.run("fail", {"message": "nope"}, trace=TRACE)
    assert info["type"] == "ValueError"
    spans = {s["name"]: s for s in _spans(host)}
    assert report["outer"]["span_id"] == spans["default/awork"]["span_id"]
    assert [c["data"]["span_id"] for c in chunks] == [spans["default/swork"]["span_id"]] * 2
    failed = spans["default/fail"]
    assert failed["status"] == {"code": "ERROR", "description": "nope"}
    assert failed["attributes"]["error.type"] == "ValueError"
    assert failed["events"][0]["attributes"]["exception.message"] == "nope"
    for name in ("default/awork", "default/swork", "default/fail"):
        assert spans[name]["parent_span_id"] == PARENT


def test_no_trace_or_a_bad_one_runs_untraced(make_host):
    require_optional("opentelemetry")
    host = make_host(adapter=TRACED)
    plain = host.run("work", {"label": "plain"})
    assert plain["outer"] == {"trace_id": None, "span_id": None}
    for bad in ({"traceparent": "00-zz-yy-01"}, {"traceparent": 7}, "not a dict"):
        assert host.run("work", {"label": "bad"}, trace=bad)["outer"]["span_id"] is None
    assert [s["name"] for s in _spans(host)] == ["inner.plain"] + ["inner.bad"] * 3


def test_without_the_api_calls_with_a_trace_still_run(make_host):
    # The fixture adapter loads without OpenTelemetry too; on an interpreter that has it this checks the same
    # answers with recording on.
    host = make_host(adapter=TRACED)
    report = host.run("work", {"label": "x"}, trace=TRACE, correlation_id="corr-7")
    assert report["correlation_id"] == "corr-7"
    if not host.run("otel")["available"]:
        assert report["outer"] == {"trace_id": None, "span_id": None}


def test_log_records_carry_the_correlation_id(make_host):
    host = make_host(adapter=TRACED, args=["--run-id", "r1"])
    others = []
    host.wait(host.call("work", {"label": "a"}, correlation_id="corr-1"), others=others)
    host.wait(host.call("work", {"label": "b"}), others=others)
    logs = [m for m in others if m["type"] == "log"]
    assert [(m["message"], m["correlation_id"], m["level"], m["logger"]) for m in logs] == [
        ("inside a", "corr-1", "info", "fixture.traced"),
        ("inside b", "r1-2", "info", "fixture.traced"),
    ]
    assert [m["call"] for m in logs] == [1, 2]


def test_with_the_api_alone_the_hosts_context_is_current(make_host):
    # No provider registered: no span is made, but the tool runs with the host's span context current, so an
    # instrumented client it calls would still propagate the trace.
    require_optional("opentelemetry")
    host = make_host(adapter="otel_recording:ApiOnlyAdapter")
    report = host.run("work", {"label": "api"}, trace=TRACE)
    assert report["outer"] == {"trace_id": TRACE_ID, "span_id": PARENT}
    assert report["inner"] == {"trace_id": TRACE_ID, "span_id": PARENT}  # the no-op tracer's span: the same
    _, info = host.run("fail", trace=TRACE)
    assert info["type"] == "ValueError"
