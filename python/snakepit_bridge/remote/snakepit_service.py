"""BridgeService, worker side, Snakepit style: the unary and server-streaming RPCs a Snakepit host calls on a
worker, served by an ordinary worker process through a MiniHost.

    ExecuteTool ────────────► MiniHost.call ──► worker ──► result | error ──► ExecuteToolResponse
    ExecuteStreamingTool ───► MiniHost.call(stream) ──► chunks ──► ToolChunk × n (+ a closing empty final)
    InitializeSession, GetSession, CleanupSession (session_end), Heartbeat, Ping

Value conventions are in ``snakepit_values.py``. The gRPC deadline becomes the call's ``timeout_ms``; a
cancelled RPC cancels the call (its Python code is interrupted as for a snakepit host).
"""

from __future__ import annotations

import os
import threading
import time

from ..errors import bridge_error
from .mini_host import CallFailed, MiniHost, WorkerFailed
from .snakepit_values import chunk_data, decode_parameters, error_json, result_any

__all__ = ["SnakepitWorkerService", "snakepit_handlers"]


def _now(messages):
    stamp = messages["Timestamp"]()
    stamp.GetCurrentTime()
    return stamp


class SnakepitWorkerService:
    """The worker-side RPCs over one MiniHost.

    Args:
        grpc: the grpc module.
        messages: the message classes (proto.load()).
        get_host: returns the MiniHost to use (started), or raises WorkerFailed.
        host_client: the Snakepit host's client (``snakepit_mode.HostClient``), or None (``serve --grpc``).
    """

    def __init__(self, grpc, messages, get_host, host_client=None) -> None:
        self.grpc = grpc
        self.m = messages
        self.get_host = get_host
        self.host_client = host_client
        self.allow_pickle = os.environ.get("SNAKEPIT_ALLOW_PICKLE") == "1"
        self.sessions = {}  # session id -> (metadata dict, created Timestamp)
        self._lock = threading.Lock()

    def handlers(self) -> dict:
        grpc, m = self.grpc, self.m

        def unary(fn, req, resp):
            return grpc.unary_unary_rpc_method_handler(
                fn, request_deserializer=m[req].FromString, response_serializer=m[resp].SerializeToString)

        return {
            "Ping": unary(self.ping, "PingRequest", "PingResponse"),
            "ExecuteTool": unary(self.execute_tool, "ExecuteToolRequest", "ExecuteToolResponse"),
            "ExecuteStreamingTool": grpc.unary_stream_rpc_method_handler(
                self.execute_streaming_tool, request_deserializer=m["ExecuteToolRequest"].FromString,
                response_serializer=m["ToolChunk"].SerializeToString),
            "InitializeSession": unary(self.initialize_session, "InitializeSessionRequest",
                                       "InitializeSessionResponse"),
            "CleanupSession": unary(self.cleanup_session, "CleanupSessionRequest", "CleanupSessionResponse"),
            "GetSession": unary(self.get_session, "GetSessionRequest", "GetSessionResponse"),
            "Heartbeat": unary(self.heartbeat, "HeartbeatRequest", "HeartbeatResponse"),
        }

    # --------------------------------------------------------------------------------------- RPCs

    def ping(self, request, context):
        return self.m["PingResponse"](message="pong: %s" % request.message, server_time=_now(self.m))

    def execute_tool(self, request, context):
        started = time.monotonic()
        response = self.m["ExecuteToolResponse"]
        call = self._start(request, context, stream=False)
        if isinstance(call, dict):  # refused before it ran
            return response(success=False, error_message=error_json(call))
        try:
            value = call.wait()
        except CallFailed as exc:
            return response(success=False, error_message=error_json(exc.info),
                            execution_time_ms=int((time.monotonic() - started) * 1000))
        except WorkerFailed as exc:
            context.abort(self.grpc.StatusCode.UNAVAILABLE, str(exc))
        out = response(success=True, execution_time_ms=int((time.monotonic() - started) * 1000))
        result_any(out, value)
        return out

    def execute_streaming_tool(self, request, context):
        call = self._start(request, context, stream=True)
        if isinstance(call, dict):
            context.abort(self.grpc.StatusCode.INTERNAL, error_json(call))
        chunk_cls = self.m["ToolChunk"]
        n = 0
        final_sent = False
        try:
            for data, final in call.iter_chunks():
                n += 1
                raw, encoding = chunk_data(data)
                yield chunk_cls(chunk_id="%s-%d" % (request.tool_name, n), data=raw, is_final=final,
                                metadata={"encoding": encoding})
                final_sent = final_sent or final
        except CallFailed as exc:
            context.abort(self.grpc.StatusCode.INTERNAL, error_json(exc.info))
        except WorkerFailed as exc:
            context.abort(self.grpc.StatusCode.UNAVAILABLE, str(exc))
        if not final_sent:  # the tool never marked a chunk final: an empty final chunk closes the stream
            yield chunk_cls(chunk_id="%s-%d" % (request.tool_name, n + 1), data=b"", is_final=True)

    def initialize_session(self, request, context):
        self._remember(request.session_id, dict(request.metadata))
        tools = {}
        try:
            for spec in self.get_host().tools:
                tools[spec.get("name", "")] = tool_spec(self.m, spec)
        except WorkerFailed:
            pass
        return self.m["InitializeSessionResponse"](success=True, available_tools=tools)

    def cleanup_session(self, request, context):
        with self._lock:
            known = self.sessions.pop(request.session_id, None) is not None
        try:
            self.get_host().end_session(request.session_id)
        except WorkerFailed:
            pass
        if self.host_client is not None:
            self.host_client.forget(request.session_id)
        return self.m["CleanupSessionResponse"](success=True, resources_cleaned=1 if known else 0)

    def get_session(self, request, context):
        with self._lock:
            found = self.sessions.get(request.session_id)
        if found is None:
            context.abort(self.grpc.StatusCode.NOT_FOUND, "no session %r on this worker" % request.session_id)
        metadata, created = found
        try:
            count = len(self.get_host().tools)
        except WorkerFailed:
            count = 0
        return self.m["GetSessionResponse"](session_id=request.session_id, metadata=metadata, created_at=created,
                                            tool_count=count)

    def heartbeat(self, request, context):
        return self.m["HeartbeatResponse"](server_time=_now(self.m), session_valid=True)

    # ------------------------------------------------------------------------------------- helpers

    def _remember(self, session: str, metadata=None) -> None:
        if not session:
            return
        with self._lock:
            if session not in self.sessions:
                self.sessions[session] = (metadata or {}, _now(self.m))

    def _start(self, request, context, stream: bool):
        """Send the call; returns its PendingCall, or an ErrorInfo when it was refused before running."""
        try:
            args = decode_parameters(request, self.allow_pickle)
        except ValueError as exc:
            return bridge_error("invalid_arguments", str(exc), {"tool": request.tool_name, "signature": "",
                                                                "problem": str(exc)})
        session = request.session_id or None
        if session:
            self._remember(session)
            if self.host_client is not None:
                self.host_client.session_seen(session)  # InitializeSession on the host (once), heartbeats
        metadata = dict(context.invocation_metadata())
        correlation = request.metadata.get("correlation_id") or metadata.get("x-snakepit-correlation-id")
        try:
            host = self.get_host()
            # The host's call id goes with the call before it is sent: a host call the tool makes at once must
            # already name it (the host takes the session of a host call from the call it names).
            call = host.call(request.tool_name, args, session=session, timeout=context.time_remaining(),
                             stream=stream, correlation_id=correlation,
                             origin=request.metadata.get("call_id") or None)
        except WorkerFailed as exc:
            context.abort(self.grpc.StatusCode.UNAVAILABLE, str(exc))
        context.add_callback(lambda: call.cancel("abort"))
        return call


def tool_spec(messages, spec: dict):
    """A ToolSpec message from one of the worker's ToolSpec dicts (PROTOCOL.md §4)."""
    params = []
    for p in spec.get("parameters") or []:
        if p.get("kind") in ("var_keyword", "var_positional"):
            continue
        params.append(messages["ParameterSpec"](name=p.get("name", ""), type=p.get("annotation") or "any",
                                                description=p.get("description") or "",
                                                required=bool(p.get("required"))))
    return messages["ToolSpec"](
        name=spec.get("name", ""), description=spec.get("description") or "", parameters=params,
        supports_streaming=bool(spec.get("supports_streaming")),
        metadata={"signature": spec.get("signature") or "", "is_async": str(bool(spec.get("is_async"))).lower()})


def snakepit_handlers(grpc, messages, args, log) -> dict:
    """BridgeService's worker-side RPCs for ``serve --grpc``: one worker process, started on first use (and
    again if it died), serves every Snakepit-style call to this endpoint."""
    lock = threading.Lock()
    state = {"host": None}

    def get_host():
        with lock:
            host = state["host"]
            if host is None or host.dead is not None:
                host = MiniHost(args.adapter, worker_id="snakepit-%d" % os.getpid(), codec=args.codec, log=log)
                host.start()
                state["host"] = host
            return host

    return SnakepitWorkerService(grpc, messages, get_host).handlers()
