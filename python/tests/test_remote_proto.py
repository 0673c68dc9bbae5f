"""snakepit_bridge.proto against Snakepit's wire contract: every message, field number and RPC the contract
names is there with that number (docs/PROTOCOL.md §9), and the run-time descriptors round-trip."""

from __future__ import annotations

import pytest

from conftest import require_optional
from snakepit_bridge.remote import proto

# The contract (shared/spec/grpc-wire-contract.md), as message -> {field: number}.
CONTRACT = {
    "PingRequest": {"message": 1},
    "PingResponse": {"message": 1, "server_time": 2},
    "InitializeSessionRequest": {"session_id": 1, "metadata": 2, "config": 3},
    "SessionConfig": {"enable_caching": 1, "cache_ttl_seconds": 2, "enable_telemetry": 3},
    "InitializeSessionResponse": {"success": 1, "error_message": 2, "available_tools": 3},
    "CleanupSessionRequest": {"session_id": 1, "force": 2},
    "CleanupSessionResponse": {"success": 1, "resources_cleaned": 2},
    "GetSessionRequest": {"session_id": 1},
    "GetSessionResponse": {"session_id": 1, "metadata": 2, "created_at": 3, "tool_count": 4},
    "HeartbeatRequest": {"session_id": 1, "client_time": 2},
    "HeartbeatResponse": {"server_time": 1, "session_valid": 2},
    "ToolSpec": {"name": 1, "description": 2, "parameters": 3, "metadata": 4, "supports_streaming": 5},
    "ParameterSpec": {"name": 1, "type": 2, "description": 3, "required": 4, "default_value": 5,
                      "validation_json": 6},
    "ExecuteToolRequest": {"session_id": 1, "tool_name": 2, "parameters": 3, "metadata": 4, "stream": 5,
                           "binary_parameters": 6},
    "ExecuteToolResponse": {"success": 1, "result": 2, "error_message": 3, "metadata": 4,
                            "execution_time_ms": 5, "binary_result": 6},
    "ToolChunk": {"chunk_id": 1, "data": 2, "is_final": 3, "metadata": 4},
    "RegisterToolsRequest": {"session_id": 1, "tools": 2, "worker_id": 3},
    "ToolRegistration": {"name": 1, "description": 2, "parameters": 3, "metadata": 4, "supports_streaming": 5},
    "RegisterToolsResponse": {"success": 1, "tool_ids": 2, "error_message": 3},
    "GetExposedElixirToolsRequest": {"session_id": 1},
    "GetExposedElixirToolsResponse": {"tools": 1},
    "ExecuteElixirToolRequest": {"session_id": 1, "tool_name": 2, "parameters": 3, "metadata": 4},
    "ExecuteElixirToolResponse": {"success": 1, "result": 2, "error_message": 3, "metadata": 4,
                                  "execution_time_ms": 5, "binary_result": 6},
    "TelemetryEvent": {"event_parts": 1, "measurements": 2, "metadata": 3, "timestamp_ns": 4,
                       "correlation_id": 5},
    "TelemetryValue": {"int_value": 1, "float_value": 2, "string_value": 3},
    "TelemetryControl": {"toggle": 1, "sampling": 2, "filter": 3},
    "TelemetryToggle": {"enabled": 1},
    "TelemetrySamplingUpdate": {"sampling_rate": 1, "event_patterns": 2},
    "TelemetryEventFilter": {"allow": 1, "deny": 2},
}
RPCS = {
    "Ping": ("PingRequest", "PingResponse", False, False),
    "InitializeSession": ("InitializeSessionRequest", "InitializeSessionResponse", False, False),
    "CleanupSession": ("CleanupSessionRequest", "CleanupSessionResponse", False, False),
    "GetSession": ("GetSessionRequest", "GetSessionResponse", False, False),
    "Heartbeat": ("HeartbeatRequest", "HeartbeatResponse", False, False),
    "ExecuteTool": ("ExecuteToolRequest", "ExecuteToolResponse", False, False),
    "ExecuteStreamingTool": ("ExecuteToolRequest", "ToolChunk", False, True),
    "RegisterTools": ("RegisterToolsRequest", "RegisterToolsResponse", False, False),
    "GetExposedElixirTools": ("GetExposedElixirToolsRequest", "GetExposedElixirToolsResponse", False, False),
    "ExecuteElixirTool": ("ExecuteElixirToolRequest", "ExecuteElixirToolResponse", False, False),
    "StreamTelemetry": ("TelemetryControl", "TelemetryEvent", True, True),
}


def test_the_file_has_every_message_field_and_rpc_of_the_contract():
    doc = proto.parse()
    assert doc["package"] == "snakepit.bridge"
    assert set(doc["imports"]) == {"google/protobuf/any.proto", "google/protobuf/timestamp.proto"}
    fields = {m["name"]: {f["name"]: f["number"] for f in m["fields"]} for m in doc["messages"]}
    for message, expected in CONTRACT.items():
        assert fields.get(message) == expected, message
    (service,) = doc["services"]
    assert service["name"] == "BridgeService"
    methods = {name: (req, resp, cs, ss) for name, req, resp, cs, ss in service["methods"]}
    for rpc, shape in RPCS.items():
        assert methods[rpc] == shape, rpc
    assert methods["WorkerChannel"] == ("ChannelIn", "ChannelOut", True, True)  # snakepit's own addition


def test_runtime_descriptors_build_and_round_trip():
    require_optional("google.protobuf")
    messages = proto.load()
    request = messages["ExecuteToolRequest"](session_id="s", tool_name="add", stream=True)
    request.parameters["a"].type_url = "type.googleapis.com/google.protobuf.StringValue"
    request.parameters["a"].value = b"2"
    request.binary_parameters["blob"] = b"\x00\xff"
    again = messages["ExecuteToolRequest"].FromString(request.SerializeToString())
    assert again == request and again.parameters["a"].value == b"2"
    # Field numbers on the wire: tool_name (2) is tag 0x12, stream (5) is tag 0x28.
    wire = messages["ExecuteToolRequest"](tool_name="t", stream=True).SerializeToString()
    assert wire == b"\x12\x01t\x28\x01"
    value = messages["TelemetryValue"](float_value=1.5)
    assert value.WhichOneof("value") == "float_value"
    out = messages["ChannelOut"](data=b"ab", stderr=["x"])
    out.exit.code = 3
    assert messages["ChannelOut"].FromString(out.SerializeToString()).exit.code == 3


def test_the_parser_refuses_what_it_does_not_understand():
    with pytest.raises(ValueError, match="unexpected 'enum'"):
        proto._Parser("enum Color { RED = 0; }").parse()
