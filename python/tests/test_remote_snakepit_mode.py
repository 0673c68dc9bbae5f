"""Our worker in Snakepit's style, driven the way a Snakepit host drives one: a fake host (the "Elixir" side)
serves BridgeService's callbacks, starts ``python -m snakepit_bridge snakepit``, and calls its RPCs with the
documented value conventions (JSON in Any, result tags, error JSON, chunk ids)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent import futures

import pytest

from conftest import require_optional

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
SHOWCASE = "snakepit_bridge.adapters.showcase:ShowcaseAdapter"
STRING_VALUE = "type.googleapis.com/google.protobuf.StringValue"


@pytest.fixture(scope="module")
def rpc():
    require_optional("grpc")
    require_optional("google.protobuf")
    import grpc

    from snakepit_bridge.remote import proto

    return grpc, proto.load()


class FakeSnakepitHost:
    """The host's side of BridgeService: records every callback; host tool ``double`` doubles ``x``."""

    def __init__(self, grpc, m) -> None:
        self.grpc, self.m = grpc, m
        self.calls = []
        self.tools = {}
        self.lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        handlers = {}
        for name, req, resp in (("Ping", "PingRequest", "PingResponse"),
                                ("InitializeSession", "InitializeSessionRequest", "InitializeSessionResponse"),
                                ("Heartbeat", "HeartbeatRequest", "HeartbeatResponse"),
                                ("RegisterTools", "RegisterToolsRequest", "RegisterToolsResponse"),
                                ("ExecuteElixirTool", "ExecuteElixirToolRequest", "ExecuteElixirToolResponse")):
            handlers[name] = grpc.unary_unary_rpc_method_handler(
                getattr(self, name), request_deserializer=m[req].FromString,
                response_serializer=m[resp].SerializeToString)
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("snakepit.bridge.BridgeService", handlers),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def record(self, name, request):
        with self.lock:
            self.calls.append((name, request))

    def names(self):
        with self.lock:
            return [name for name, _ in self.calls]

    def Ping(self, request, context):
        self.record("Ping", request)
        return self.m["PingResponse"](message="pong")

    def InitializeSession(self, request, context):
        self.record("InitializeSession", request)
        return self.m["InitializeSessionResponse"](success=True)

    def Heartbeat(self, request, context):
        self.record("Heartbeat", request)
        return self.m["HeartbeatResponse"](session_valid=True)

    def RegisterTools(self, request, context):
        self.record("RegisterTools", request)
        self.tools = {t.name: t for t in request.tools}
        return self.m["RegisterToolsResponse"](success=True)

    def ExecuteElixirTool(self, request, context):
        self.record("ExecuteElixirTool", request)
        if request.tool_name != "double":
            return self.m["ExecuteElixirToolResponse"](
                success=False, error_message=json.dumps({"name": "UnknownTool", "message": "no %s" % request.tool_name}))
        x = json.loads(request.parameters["x"].value)
        out = self.m["ExecuteElixirToolResponse"](success=True)
        out.result.type_url = "type.googleapis.com/snakepit.float"
        out.result.value = json.dumps(x * 2).encode()
        return out


def start_worker(host, tmp_path, heartbeat_ms=200):
    ready = tmp_path / "ready"
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, SNAKEPIT_READY_FILE=str(ready), SNAKEPIT_WORKER_ID="w-1",
               SNAKEPIT_HEARTBEAT_CONFIG=json.dumps({"interval_ms": heartbeat_ms}))
    proc = subprocess.Popen([sys.executable, "-m", "snakepit_bridge", "snakepit", "--adapter", SHOWCASE, "--port", "0",
                             "--elixir-address", "127.0.0.1:%d" % host.port, "--snakepit-run-id", "run1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no ready file"
        time.sleep(0.02)
    return proc, int(ready.read_text().strip())


@pytest.fixture
def worker(rpc, tmp_path):
    grpc, m = rpc
    host = FakeSnakepitHost(grpc, m)
    proc, port = start_worker(host, tmp_path)
    channel = grpc.insecure_channel("127.0.0.1:%d" % port)

    def unary(name, request, response):
        return channel.unary_unary("/snakepit.bridge.BridgeService/" + name,
                                   request_serializer=type(request).SerializeToString,
                                   response_deserializer=m[response].FromString)(request, timeout=20)

    def streaming(request):
        return channel.unary_stream("/snakepit.bridge.BridgeService/ExecuteStreamingTool",
                                    request_serializer=type(request).SerializeToString,
                                    response_deserializer=m["ToolChunk"].FromString)(request, timeout=20)

    yield host, proc, unary, streaming, m
    channel.close()
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()
    host.server.stop(0)


def request(m, tool_name, session="", **params):
    req = m["ExecuteToolRequest"](tool_name=tool_name, session_id=session)
    for key, value in params.items():
        req.parameters[key].type_url = STRING_VALUE
        req.parameters[key].value = json.dumps(value).encode()
    return req


def test_start_up_pings_first_registers_tools_and_heartbeats(worker):
    host, proc, unary, streaming, m = worker
    assert host.names()[0] == "Ping"
    registered = [r for name, r in host.calls if name == "RegisterTools"]
    assert registered and registered[0].worker_id == "w-1"
    assert {"add", "count", "echo"} <= set(host.tools)
    add = host.tools["add"]
    assert [p.name for p in add.parameters] == ["a", "b"] and all(p.required for p in add.parameters)
    assert host.tools["count"].supports_streaming
    time.sleep(0.6)
    assert host.names().count("Heartbeat") >= 2
    assert proc.stdout.readline().decode().startswith("GRPC_READY:")


def test_results_carry_json_in_any_with_snakepit_tags(worker):
    host, proc, unary, streaming, m = worker
    out = unary("ExecuteTool", request(m, "add", a=1, b=2), "ExecuteToolResponse")
    assert out.success and out.result.type_url == "type.googleapis.com/snakepit.float"
    assert json.loads(out.result.value) == 3
    out = unary("ExecuteTool", request(m, "echo", x=[1, "two"], y={"z": True}), "ExecuteToolResponse")
    assert out.result.type_url == "type.googleapis.com/snakepit.map"
    assert json.loads(out.result.value) == {"x": [1, "two"], "y": {"z": True}}
    # A real packed StringValue is accepted too (lenient receiver), and raw bytes go through binary_parameters.
    from google.protobuf import wrappers_pb2

    req = m["ExecuteToolRequest"](tool_name="echo")
    req.parameters["v"].Pack(wrappers_pb2.StringValue(value=json.dumps({"k": 1})))
    req.binary_parameters["blob"] = b"\x00\xff"
    out = unary("ExecuteTool", req, "ExecuteToolResponse")
    assert out.success, out.error_message
    decoded = json.loads(out.result.value)
    assert decoded["v"] == {"k": 1} and decoded["blob"] == "AP8="  # nested bytes come back as base64 text


def test_errors_are_snakepit_error_json(worker):
    host, proc, unary, streaming, m = worker
    out = unary("ExecuteTool", request(m, "error_demo", error_type="KeyError", message="gone"), "ExecuteToolResponse")
    assert not out.success
    error = json.loads(out.error_message)
    assert error["type"] == "KeyError" and "gone" in error["message"]
    assert "Traceback" in error["traceback"] and error["stacktrace"] == error["traceback"]
    assert error["context"]["kind"] == "python"
    unknown = json.loads(unary("ExecuteTool", request(m, "nope"), "ExecuteToolResponse").error_message)
    assert unknown["context"]["kind"] == "unknown_tool" and "add" in unknown["context"]["details"]["available"]


def test_streams_have_chunk_ids_and_a_closing_final_chunk(worker):
    host, proc, unary, streaming, m = worker
    chunks = list(streaming(request(m, "count", n=3)))
    assert [c.chunk_id for c in chunks] == ["count-1", "count-2", "count-3", "count-4"]
    assert [json.loads(c.data) for c in chunks[:3]] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert [c.is_final for c in chunks] == [False, False, False, True] and chunks[3].data == b""


def test_a_failing_stream_ends_with_internal_and_the_error_json(worker, rpc):
    grpc, _ = rpc
    host, proc, unary, streaming, m = worker
    with pytest.raises(grpc.RpcError) as caught:
        list(streaming(request(m, "error_demo", error_type="ValueError")))
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert json.loads(caught.value.details())["type"] == "ValueError"


def test_sessions_initialize_once_on_the_host_and_keep_state(worker):
    host, proc, unary, streaming, m = worker
    unary("ExecuteTool", request(m, "remember", session="s1", key="k", value=41), "ExecuteToolResponse")
    out = unary("ExecuteTool", request(m, "recall", session="s1", key="k"), "ExecuteToolResponse")
    assert json.loads(out.result.value) == 41
    assert [r.session_id for n, r in host.calls if n == "InitializeSession"] == ["s1"]
    got = unary("GetSession", m["GetSessionRequest"](session_id="s1"), "GetSessionResponse")
    assert got.session_id == "s1" and got.tool_count > 3
    cleaned = unary("CleanupSession", m["CleanupSessionRequest"](session_id="s1"), "CleanupSessionResponse")
    assert cleaned.success and cleaned.resources_cleaned == 1
    out = unary("ExecuteTool", request(m, "recall", session="s1", key="k"), "ExecuteToolResponse")
    assert not out.HasField("result")  # None: the session's state is gone


def test_host_tools_become_execute_elixir_tool(worker):
    host, proc, unary, streaming, m = worker
    out = unary("ExecuteTool", request(m, "call_host", tool="double", args={"x": 21}), "ExecuteToolResponse")
    assert out.success, out.error_message
    assert json.loads(out.result.value) == 42
    call = [r for n, r in host.calls if n == "ExecuteElixirTool"][0]
    assert call.tool_name == "double" and json.loads(call.parameters["x"].value) == 21
    failed = unary("ExecuteTool", request(m, "call_host", tool="nope"), "ExecuteToolResponse")
    assert not failed.success and "HostToolError" in failed.error_message


def test_the_worker_leaves_when_the_host_stops_answering_heartbeats(worker):
    host, proc, unary, streaming, m = worker
    host.server.stop(0)
    assert proc.wait(15) == 5
    assert b"missed 3 heartbeats" in proc.stderr.read()


def test_a_worker_that_cannot_reach_its_host_gives_up(rpc, tmp_path):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    bad = subprocess.run([sys.executable, "-m", "snakepit_bridge", "snakepit", "--adapter", SHOWCASE,
                          "--elixir-address", "127.0.0.1:1", "--host", "0.0.0.0"], env=env, capture_output=True,
                         timeout=30)
    assert bad.returncode == 2 and b"this machine only" in bad.stderr
