"""What one pool serves, described for TypeScript: its adapter's tools and its libraries' functions.

The same code that serves them decides what is described, so the types list exactly what a worker of the pool
answers: the adapter's ``@tool`` methods as the dispatcher discovers them (``base_adapter._tool_attributes``,
read from the class: the adapter is imported but neither created nor initialized), and each library's
functions as the generic adapter loads them (``generic.Library``: ``functions``, ``aliases``,
``expose: "public"``, ``exclude`` and the unsafe-module rules included).

Types come from the run-time type hints when a function has any (adapters, typed libraries), else from stubs
(stubs.py: numpy's own, typeshed for the standard library), else every value is ``any``.
"""

from __future__ import annotations

import inspect

from ..base_adapter import _tool_attributes
from ..dispatch.startup import load_adapter_class
from ..generic.config import parse_config
from ..generic.describe import signature_of
from ..generic.library import Library
from .docs import doc_parts
from .from_hints import HintReader, function_hints
from .from_stubs import StubReader
from .model import ANY, Defs, default_text, node

__all__ = ["describe_pool"]

_P = inspect.Parameter
_KINDS = {_P.POSITIONAL_ONLY: "positional_only", _P.POSITIONAL_OR_KEYWORD: "positional_or_keyword",
          _P.VAR_POSITIONAL: "var_positional", _P.KEYWORD_ONLY: "keyword_only", _P.VAR_KEYWORD: "var_keyword"}


class _Describer:
    def __init__(self, index) -> None:
        self.defs = Defs()
        self.hints = HintReader(self.defs)
        self.stubs = StubReader(index, self.defs)
        self.warnings = []

    # ------------------------------------------------------------------------------------- adapter tools

    def adapter_tools(self, spec: str) -> list:
        _module, _name, cls = load_adapter_class(spec)
        tools = []
        for name, attr, meta in _tool_attributes(cls):
            raw = inspect.getattr_static(cls, attr)
            func = getattr(cls, attr)
            try:
                sig = inspect.signature(func)
            except (TypeError, ValueError):
                continue
            params = list(sig.parameters.values())
            if not isinstance(raw, (staticmethod, classmethod)) and params:
                params = params[1:]  # self
            if meta.supports_streaming and any(p.name == "stream" for p in params):
                params = [p for p in params if p.name != "stream"]  # the StreamSender, not an argument
            target = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else func
            hints = function_hints(target)
            probe = inspect.unwrap(target)
            stream = bool(meta.supports_streaming or inspect.isgeneratorfunction(probe)
                          or inspect.isasyncgenfunction(probe))
            doc = doc_parts(inspect.getdoc(target))
            if meta.description:
                summary = doc.get("summary")
                doc["summary"] = meta.description
                if summary and summary.rstrip(".") != meta.description.rstrip("."):
                    doc["body"] = summary + ("\n\n" + doc["body"] if doc.get("body") else "")
            style = "params" if [p.name for p in params] == ["params"] and params[0].default is _P.empty else None
            tool = {"name": name, "origin": "adapter", "doc": doc, "stream": stream, "style": style,
                    "params": self._layout(params)}
            tool["signatures"] = [self._hinted_signature(params, hints, stream)]
            tool["source"] = "hints" if hints else "none"
            tools.append(tool)
        return tools

    # --------------------------------------------------------------------------------- library functions

    def library_tools(self, config) -> tuple:
        tools, info = [], []
        for lib_config in config.libraries:
            library = Library(lib_config)
            library.load()  # LibraryImportError / PathRefused: the host reports them
            count = 0
            for tool_name in sorted(library.functions):
                fn = library.functions[tool_name]
                tools.append(self.library_function(lib_config, fn))
                count += 1
            info.append({"name": lib_config.name, "namespace": lib_config.namespace, "module": lib_config.module,
                         "arrays": lib_config.arrays, "dataframes": lib_config.dataframes, "functions": count,
                         "expose": lib_config.expose})
        return tools, info

    def library_function(self, cfg, fn) -> dict:
        target = fn.target
        is_class = inspect.isclass(target)
        sig = signature_of(target)
        stream = bool(fn.is_generator or fn.is_asyncgen)
        hint_source = getattr(target, "__init__", target) if is_class else target
        hints = function_hints(hint_source) if not inspect.isbuiltin(hint_source) else {}
        if is_class:
            hints.pop("return", None)
        params = [p for p in sig.parameters.values()] if sig is not None else None
        tool = {"name": fn.name, "origin": "library", "library": cfg.namespace, "path": fn.path,
                "doc": doc_parts(_doc(target)), "stream": stream, "style": None}
        hinted = {k: v for k, v in hints.items() if k != "return" or not is_class}
        if params is not None and hinted:
            signature = self._hinted_signature(params, hints, stream)
            if is_class:
                signature["returns"] = self.hints.node(target)
            tool["params"] = self._layout(params)
            tool["signatures"] = [signature]
            tool["source"] = "hints"
            return tool
        stub = self.stubs.signatures(cfg.module, fn.path)
        if stub is None:
            owner = getattr(target, "__module__", None)
            qual = getattr(target, "__qualname__", None)
            if isinstance(owner, str) and isinstance(qual, str) and "<" not in qual:
                stub = self.stubs.signatures(owner, qual)
        if stub and not all(_untyped(sig) for sig in stub):  # a .py read as a stub may say nothing
            tool["params"] = self._layout(params) if params is not None else _stub_layout(stub[0])
            tool["signatures"] = [self._stub_signature(s, tool["params"], stream) for s in stub]
            tool["source"] = "stub"
            return tool
        tool["params"] = self._layout(params) if params is not None else []
        tool["open"] = params is None  # no signature: any positional arguments
        returns = self.hints.node(target) if is_class else ANY
        tool["signatures"] = [{"params": {p["name"]: {"type": ANY, "optional": not p["required"]}
                                          for p in tool["params"]}, "returns": returns}]
        tool["source"] = "none"
        return tool

    # ---------------------------------------------------------------------------------------- helpers

    def _layout(self, params) -> list:
        out = []
        for p in params:
            entry = {"name": p.name, "kind": _KINDS[p.kind],
                     "required": p.default is _P.empty and p.kind not in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD)}
            if p.default is not _P.empty:
                text = default_text(p.default.value if _is_enum(p.default) else p.default)
                if text is not None:
                    entry["default"] = text
            out.append(entry)
        return out

    def _hinted_signature(self, params, hints: dict, stream: bool) -> dict:
        types = {}
        for p in params:
            t = self.hints.node(hints.get(p.name, _P.empty))
            if p.default is None and t.get("k") not in ("any",):
                t = _optional(t)
            types[p.name] = {"type": t, "optional": p.default is not _P.empty}
        returns = self.hints.node(hints.get("return", _P.empty))
        return {"params": types, "returns": _chunk(returns) if stream else _result(returns)}

    def _stub_signature(self, stub: dict, layout: list, stream: bool) -> dict:
        by_name = {p["name"]: p for p in stub["params"]}
        positional = [p for p in stub["params"] if p["kind"] in ("positional_only", "positional_or_keyword")]
        types = {}
        for i, p in enumerate(layout):
            s = by_name.get(p["name"])
            if s is None and p["kind"] == "positional_only" and i < len(positional):
                s = positional[i]  # a positional-only parameter the stub names differently (x vs x1)
            if s is None:
                types[p["name"]] = {"type": ANY, "optional": not p["required"]}
            else:
                types[p["name"]] = {"type": s["type"], "optional": s["optional"] and not p["required"]}
        out = {"params": types, "returns": _chunk(stub["returns"]) if stream else _result(stub["returns"])}
        return out


def _is_enum(value) -> bool:
    import enum

    return isinstance(value, enum.Enum)


def _optional(t: dict) -> dict:
    from .model import union

    return union([t, node("none")])


def _untyped(sig: dict) -> bool:
    return sig["returns"] == ANY and all(p["type"] == ANY for p in sig["params"])


def _chunk(returns: dict) -> dict:
    """The chunk type of a stream, from its declared result (``Iterator[X]``, ``AsyncGenerator[X, None]``)."""
    if returns.get("k") == "iter":
        return returns["of"]
    return ANY


def _result(returns: dict) -> dict:
    return ANY if returns.get("k") == "iter" else returns


def _stub_layout(sig: dict) -> list:
    """The layout of a function with no run-time signature, from its stub. A C function without a signature
    often takes no keywords at all, so every parameter that may be positional is sent by position."""
    kinds = {"positional_or_keyword": "positional_only"}
    return [{"name": p["name"], "kind": kinds.get(p["kind"], p["kind"]),
             "required": not p["optional"] and p["kind"] not in ("var_positional", "var_keyword")}
            for p in sig["params"]]


def _doc(obj):
    try:
        doc = getattr(obj, "__doc__", None)
        return doc if isinstance(doc, str) else inspect.getdoc(obj)
    except Exception:
        return None


def describe_pool(adapter, generic_config, index) -> dict:
    """Everything the host renders for one pool: ``{"tools": [...], "defs": {...}, "libraries": [...]}``.

    Args:
        adapter: the adapter spec (``module:Class``) or None.
        generic_config: the libraries' configuration (its JSON form, as the host sends workers) or None.
        index: a stubs.StubIndex.
    """
    describer = _Describer(index)
    tools, libraries = [], []
    config = parse_config(generic_config) if generic_config is not None else None
    if config is not None and config.adapter is not None:
        adapter = config.adapter
    if adapter is not None:
        tools.extend(describer.adapter_tools(adapter))
    if config is not None:
        found, libraries = describer.library_tools(config)
        tools.extend(found)
    tools.sort(key=lambda t: t["name"])
    return {"tools": tools, "defs": describer.defs.sorted(), "libraries": libraries,
            "stubs": sorted(index.sources)}
