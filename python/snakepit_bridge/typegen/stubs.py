"""Find and read type stubs (``.pyi``) without importing anything they name.

Functions without annotations at run time (C functions such as ``math.sqrt``, most of the standard library,
numpy) are described by stubs: numpy ships ``.pyi`` files beside its modules, and the standard library's are in
typeshed, which mypy (``pip install mypy``) and pyright (``npm i -D pyright``) carry. ``StubIndex.module(name)``
finds a module's stub in this order:

1. a ``.pyi`` beside the module's source (inline stubs, PEP 561);
2. a ``<package>-stubs`` distribution on ``sys.path``;
3. typeshed: ``stdlib/`` then ``stubs/*/`` of each typeshed directory given (the host finds them);
4. the module's own ``.py`` source (numpy keeps its typing aliases in plain modules).

A stub is parsed with ``ast`` and its top level turned into a scope of bindings (``StubModule.names``):
imports, classes, functions (their ``@overload`` variants together), type aliases, TypeVars and annotated
variables. ``if sys.version_info >= ...`` and ``if sys.platform == ...`` blocks are read for the running
interpreter, as type checkers do. Nothing in a stub is executed.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys

__all__ = ["StubIndex", "StubModule", "Binding", "decorator_name"]

MAX_STUB_BYTES = 4 * 1024 * 1024  # numpy/__init__.pyi is ~200 KB; anything far larger is not a stub to read


class Binding:
    """What a name is bound to in a stub: ``kind`` is import | module | class | func | alias | typevar | var."""

    __slots__ = ("kind", "module", "name", "node", "nodes")

    def __init__(self, kind: str, module: str, name: str, node=None, nodes=None) -> None:
        self.kind = kind
        self.module = module  # for import: the module imported from; else the stub's own module
        self.name = name  # for import: the name in that module (None for ``import x``)
        self.node = node
        self.nodes = nodes or []  # func: its definitions (overloads), in order


class StubModule:
    """One parsed stub: its module name, whether it is a package, and its top-level bindings."""

    def __init__(self, name: str, path: str, tree, is_package: bool) -> None:
        self.name = name
        self.path = path
        self.is_package = is_package
        self.names = {}
        self.star = []  # modules imported with ``from m import *``
        self._read(tree.body)

    # ---------------------------------------------------------------------------------- the scope

    def _read(self, body) -> None:
        for stmt in body:
            if isinstance(stmt, ast.If):
                verdict = _condition(stmt.test)
                if verdict is None or verdict:
                    self._read(stmt.body)
                if verdict is None or not verdict:
                    self._read(stmt.orelse)
            elif isinstance(stmt, ast.Try):
                self._read(stmt.body)
            elif isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        self.names[alias.asname] = Binding("module", alias.name, None)
                    else:
                        top = alias.name.split(".")[0]
                        self.names.setdefault(top, Binding("module", top, None))
            elif isinstance(stmt, ast.ImportFrom):
                source = self._absolute(stmt.module, stmt.level)
                if source is None:
                    continue
                for alias in stmt.names:
                    if alias.name == "*":
                        self.star.append(source)
                    else:
                        self.names[alias.asname or alias.name] = Binding("import", source, alias.name)
            elif isinstance(stmt, ast.ClassDef):
                self.names[stmt.name] = Binding("class", self.name, stmt.name, stmt)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(stmt)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                target = stmt.target.id
                if _is_type_alias(stmt.annotation) and stmt.value is not None:
                    self.names[target] = Binding("alias", self.name, target, stmt.value)
                elif stmt.value is not None and _typevar_call(stmt.value):
                    self.names[target] = Binding("typevar", self.name, target, stmt.value)
                else:
                    self.names[target] = Binding("var", self.name, target, stmt.annotation)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                target = stmt.targets[0].id
                if _typevar_call(stmt.value):
                    self.names[target] = Binding("typevar", self.name, target, stmt.value)
                else:
                    self.names[target] = Binding("alias", self.name, target, stmt.value)

    def _function(self, stmt) -> None:
        existing = self.names.get(stmt.name)
        overload = any(decorator_name(d) == "overload" for d in stmt.decorator_list)
        if existing is not None and existing.kind == "func":
            if overload or not any(decorator_name(d) == "overload" for n in existing.nodes
                                   for d in n.decorator_list):
                if overload:
                    existing.nodes.append(stmt)
                else:
                    existing.nodes = [stmt]  # a redefinition in another version branch
            return
        self.names[stmt.name] = Binding("func", self.name, stmt.name, stmt, [stmt])

    def _absolute(self, module, level: int):
        if not level:
            return module
        package = self.name if self.is_package else self.name.rpartition(".")[0]
        parts = package.split(".") if package else []
        if level - 1 > len(parts):
            return None
        base = parts[:len(parts) - (level - 1)] if level > 1 else parts
        return ".".join(base + ([module] if module else []))


def decorator_name(node) -> str:
    """The name a decorator (or a call) refers to: ``overload`` for ``@typing.overload``."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_type_alias(annotation) -> bool:
    return (isinstance(annotation, ast.Name) and annotation.id == "TypeAlias") or \
        (isinstance(annotation, ast.Attribute) and annotation.attr == "TypeAlias")


def _typevar_call(value) -> bool:
    return isinstance(value, ast.Call) and decorator_name(value.func) in ("TypeVar", "ParamSpec", "TypeVarTuple")


def _condition(test):
    """True / False for ``sys.version_info`` and ``sys.platform`` tests (as this interpreter sees them), None for
    anything else (both branches are read then)."""
    try:
        if isinstance(test, ast.BoolOp):
            values = [_condition(v) for v in test.values]
            if isinstance(test.op, ast.And):
                return False if False in values else (None if None in values else True)
            return True if True in values else (None if None in values else False)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = _condition(test.operand)
            return None if inner is None else not inner
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "startswith" \
                and _is_sys_attr(test.func.value, "platform") and test.args \
                and isinstance(test.args[0], ast.Constant):
            return sys.platform.startswith(test.args[0].value)
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            if _is_sys_attr(left, "version_info") and isinstance(right, ast.Tuple):
                value, other = sys.version_info[:len(right.elts)], tuple(ast.literal_eval(right))
            elif _is_sys_attr(left, "platform") and isinstance(right, ast.Constant):
                value, other = sys.platform, right.value
            else:
                return None
            return {ast.GtE: value >= other, ast.Gt: value > other, ast.Lt: value < other,
                    ast.LtE: value <= other, ast.Eq: value == other, ast.NotEq: value != other}.get(type(op))
    except Exception:
        return None
    return None


def _is_sys_attr(node, attr: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.value, ast.Name) \
        and node.value.id == "sys"


class StubIndex:
    """Stub files by module name, parsed once per run."""

    def __init__(self, typeshed_dirs=()) -> None:
        self.typeshed = []
        for d in typeshed_dirs:
            if d and os.path.isdir(os.path.join(d, "stdlib")):
                self.typeshed.append(os.path.join(d, "stdlib"))
                stubs = os.path.join(d, "stubs")
                if os.path.isdir(stubs):
                    self.typeshed.extend(os.path.join(stubs, s) for s in sorted(os.listdir(stubs)))
        self._cache = {}
        self.sources = set()  # where stubs were found (stdlib, inline, ...): reported to the host

    def module(self, name: str):
        """The StubModule for ``name``, or None when no stub or source can be found or parsed."""
        if name in self._cache:
            return self._cache[name]
        self._cache[name] = None  # a cycle in lookups sees None rather than recursing
        found = self._find(name)
        stub = None
        if found is not None:
            path, is_package, kind = found
            try:
                if os.path.getsize(path) <= MAX_STUB_BYTES:
                    with open(path, encoding="utf-8") as f:
                        tree = ast.parse(f.read(), filename=path)
                    stub = StubModule(name, path, tree, is_package)
                    self.sources.add(kind)
            except (OSError, SyntaxError, ValueError, RecursionError):
                stub = None
        self._cache[name] = stub
        return stub

    def _find(self, name: str):
        origin = None
        is_package = False
        if name not in ("builtins",) and not name.startswith("_typeshed"):
            try:
                spec = importlib.util.find_spec(name)
            except Exception:  # a parent package that fails to import, or no such module
                spec = None
            if spec is not None:
                origin = spec.origin if isinstance(spec.origin, str) and os.path.isfile(spec.origin) else None
                is_package = spec.submodule_search_locations is not None
        if origin is not None:
            stem, _ = os.path.splitext(origin)
            if stem.endswith(".cpython") or "." in os.path.basename(stem):  # mod.cpython-311-x86_64-linux-gnu.so
                stem = os.path.join(os.path.dirname(stem), os.path.basename(stem).split(".")[0])
            if os.path.isfile(stem + ".pyi"):
                return stem + ".pyi", is_package, "inline"
        parts = name.split(".")
        for entry in sys.path:
            if not isinstance(entry, str) or not entry:
                continue
            base = os.path.join(entry, parts[0] + "-stubs", *parts[1:])
            for path, pkg in ((os.path.join(base, "__init__.pyi"), True), (base + ".pyi", False)):
                if os.path.isfile(path):
                    return path, pkg, "stubs"
        for root in self.typeshed:
            base = os.path.join(root, *parts)
            for path, pkg in ((os.path.join(base, "__init__.pyi"), True), (base + ".pyi", False)):
                if os.path.isfile(path):
                    return path, pkg, "typeshed"
        if origin is not None and origin.endswith(".py"):
            return origin, is_package, "source"
        return None
