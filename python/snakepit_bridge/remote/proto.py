"""``snakepit_bridge.proto`` at run time: parse the file, build its descriptors, make the message classes.

No generated ``*_pb2`` module is imported, so any protobuf from 3.21 to 7.x works: generated code is pinned to
the protobuf version that generated it, a descriptor built at run time is not. The Node host loads the very
same file with @grpc/proto-loader, so the two sides cannot drift apart.

The parser understands the subset the file keeps to (see its header): ``syntax``, ``package``, ``import``,
``message`` with scalar, message, ``repeated``, ``map<K, V>`` and ``oneof`` fields, and ``service`` with
unary and streaming ``rpc``\\ s.

    messages = load()                       # name -> message class, e.g. messages["PingRequest"]
    SERVICE, methods = service_methods()    # "snakepit.bridge.BridgeService", {name: (in, out, cs, ss)}
"""

from __future__ import annotations

import os
import re
import threading

__all__ = ["PROTO_PATH", "PACKAGE", "SERVICE", "load", "service_methods", "parse"]

PROTO_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "snakepit_bridge.proto")
PACKAGE = "snakepit.bridge"
SERVICE = PACKAGE + ".BridgeService"

_SCALARS = {
    "double": 1, "float": 2, "int64": 3, "uint64": 4, "int32": 5, "fixed64": 6, "fixed32": 7, "bool": 8,
    "string": 9, "bytes": 12, "uint32": 13, "sfixed32": 15, "sfixed64": 16, "sint32": 17, "sint64": 18,
}
_TYPE_MESSAGE = 11
_LABEL_OPTIONAL, _LABEL_REPEATED = 1, 3
_TOKEN = re.compile(r'\s*(?:(//[^\n]*)|("[^"]*")|([A-Za-z_][A-Za-z0-9_.]*)|(\d+)|(\S))')

_lock = threading.Lock()
_cache = {}


def _tokens(text: str) -> list:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            break
        pos = m.end()
        if m.group(1) is not None:
            continue
        tok = m.group(2) or m.group(3) or m.group(4) or m.group(5)
        if tok:
            out.append(tok)
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expect=None) -> str:
        tok = self.peek()
        if tok is None or (expect is not None and tok != expect):
            raise ValueError("snakepit_bridge.proto: expected %r, got %r (token %d)" % (expect, tok, self.i))
        self.i += 1
        return tok

    def parse(self) -> dict:
        doc = {"package": "", "imports": [], "messages": [], "services": []}
        while self.peek() is not None:
            tok = self.take()
            if tok == "syntax":
                self.take("=")
                self.take()
                self.take(";")
            elif tok == "package":
                doc["package"] = self.take()
                self.take(";")
            elif tok == "import":
                doc["imports"].append(self.take().strip('"'))
                self.take(";")
            elif tok == "message":
                doc["messages"].append(self._message())
            elif tok == "service":
                doc["services"].append(self._service())
            else:
                raise ValueError("snakepit_bridge.proto: unexpected %r at top level" % tok)
        return doc

    def _message(self) -> dict:
        msg = {"name": self.take(), "fields": [], "oneofs": []}
        self.take("{")
        while self.peek() != "}":
            if self.peek() == "oneof":
                self.take()
                index = len(msg["oneofs"])
                msg["oneofs"].append(self.take())
                self.take("{")
                while self.peek() != "}":
                    msg["fields"].append(self._field(oneof=index))
                self.take("}")
            else:
                msg["fields"].append(self._field())
        self.take("}")
        return msg

    def _field(self, oneof=None) -> dict:
        field = {"repeated": False, "map": None, "oneof": oneof}
        tok = self.take()
        if tok == "repeated":
            field["repeated"] = True
            tok = self.take()
        if tok == "map":
            self.take("<")
            key = self.take()
            self.take(",")
            value = self.take()
            self.take(">")
            field["map"] = (key, value)
        else:
            field["type"] = tok
        field["name"] = self.take()
        self.take("=")
        field["number"] = int(self.take())
        self.take(";")
        return field

    def _service(self) -> dict:
        svc = {"name": self.take(), "methods": []}
        self.take("{")
        while self.peek() != "}":
            self.take("rpc")
            name = self.take()
            self.take("(")
            cs = self.peek() == "stream"
            if cs:
                self.take()
            req = self.take()
            self.take(")")
            self.take("returns")
            self.take("(")
            ss = self.peek() == "stream"
            if ss:
                self.take()
            resp = self.take()
            self.take(")")
            self.take(";")
            svc["methods"].append((name, req, resp, cs, ss))
        self.take("}")
        return svc


def parse(path: str = PROTO_PATH) -> dict:
    """Parse the .proto file into plain data (messages, fields, services)."""
    with open(path, encoding="utf-8") as f:
        return _Parser(f.read()).parse()


def _type_name(package: str, name: str) -> str:
    return "." + name if "." in name else ".%s.%s" % (package, name)


def _camel(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _file_descriptor(doc: dict):
    from google.protobuf import descriptor_pb2

    package = doc["package"]
    fdp = descriptor_pb2.FileDescriptorProto()
    fdp.name = "snakepit_bridge/remote/snakepit_bridge.proto"
    fdp.package = package
    fdp.syntax = "proto3"
    fdp.dependency.extend(doc["imports"])

    def set_type(fd, type_name: str) -> None:
        if type_name in _SCALARS:
            fd.type = _SCALARS[type_name]
        else:
            fd.type = _TYPE_MESSAGE
            fd.type_name = _type_name(package, type_name)

    for msg in doc["messages"]:
        mdp = fdp.message_type.add()
        mdp.name = msg["name"]
        for name in msg["oneofs"]:
            mdp.oneof_decl.add().name = name
        for field in msg["fields"]:
            fd = mdp.field.add()
            fd.name = field["name"]
            fd.json_name = _camel(field["name"])
            fd.number = field["number"]
            if field["map"] is not None:
                key, value = field["map"]
                entry = mdp.nested_type.add()
                entry.name = "".join(p[:1].upper() + p[1:] for p in field["name"].split("_")) + "Entry"
                entry.options.map_entry = True
                for number, fname, ftype in ((1, "key", key), (2, "value", value)):
                    efd = entry.field.add()
                    efd.name, efd.json_name, efd.number, efd.label = fname, fname, number, _LABEL_OPTIONAL
                    set_type(efd, ftype)
                fd.label = _LABEL_REPEATED
                fd.type = _TYPE_MESSAGE
                fd.type_name = ".%s.%s.%s" % (package, msg["name"], entry.name)
            else:
                fd.label = _LABEL_REPEATED if field["repeated"] else _LABEL_OPTIONAL
                set_type(fd, field["type"])
            if field["oneof"] is not None:
                fd.oneof_index = field["oneof"]
    for svc in doc["services"]:
        sdp = fdp.service.add()
        sdp.name = svc["name"]
        for name, req, resp, cs, ss in svc["methods"]:
            mdp = sdp.method.add()
            mdp.name = name
            mdp.input_type = _type_name(package, req)
            mdp.output_type = _type_name(package, resp)
            if cs:
                mdp.client_streaming = True
            if ss:
                mdp.server_streaming = True
    return fdp


def _message_class(pool, full_name: str):
    from google.protobuf import message_factory

    descriptor = pool.FindMessageTypeByName(full_name)
    get_class = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.22
    if get_class is not None:
        return get_class(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)  # protobuf 3.x


def load() -> dict:
    """The message classes of snakepit_bridge.proto by short name (``"PingRequest"``), built once.

    Raises:
        ImportError: protobuf is not installed.
    """
    with _lock:
        if "messages" in _cache:
            return _cache["messages"]
        from google.protobuf import any_pb2, descriptor_pool, timestamp_pb2  # noqa: F401 (registers them)

        doc = parse()
        pool = descriptor_pool.Default()
        try:
            pool.FindFileByName("snakepit_bridge/remote/snakepit_bridge.proto")
        except KeyError:
            pool.AddSerializedFile(_file_descriptor(doc).SerializeToString())
        messages = {m["name"]: _message_class(pool, "%s.%s" % (doc["package"], m["name"]))
                    for m in doc["messages"]}
        messages["Any"] = any_pb2.Any
        messages["Timestamp"] = timestamp_pb2.Timestamp
        _cache["messages"] = messages
        _cache["methods"] = {name: (req, resp, cs, ss)
                             for svc in doc["services"] for name, req, resp, cs, ss in svc["methods"]}
        return messages


def service_methods() -> tuple:
    """``(SERVICE, {rpc name: (request type, response type, client streaming, server streaming)})``."""
    load()
    return SERVICE, _cache["methods"]
