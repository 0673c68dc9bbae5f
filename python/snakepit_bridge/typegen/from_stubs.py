"""Stub expressions and definitions (stubs.py) -> model nodes (model.py) and signatures.

``StubReader(index, defs)`` evaluates annotation expressions of a stub without executing them: a name is
resolved through the stub's scope (its imports followed into other stubs, its aliases expanded, its TypeVars
read), then mapped like a runtime class: by qualified name first (known.py), else by what the class is in its
stub (a TypedDict, a NamedTuple, an Enum with literal values, or an object that stays in the worker).
Generic aliases (``_DualArrayLike[X, Y]``) get their TypeVars replaced by the arguments, in order.

``StubReader.signatures(module, path)`` finds a function in a module's stub (``mean``, ``DataFrame.describe``,
a class's constructor, an object with ``__call__`` such as a numpy ufunc) and returns one signature per
``@overload``: ``[{"params": [{"name", "kind", "optional", "type"}], "returns": node}]``.
"""

from __future__ import annotations

import ast

from .known import SPECIAL_FORMS, canonical, known
from .model import ANY, MAX_DEPTH, json_value, node, union
from .stubs import Binding, decorator_name

__all__ = ["StubReader"]

MAX_OVERLOADS = 12  # signatures kept per function; numpy's reductions have about ten
MAX_RESOLVE = 40  # hops when following imports and aliases for one name

_ENUM_BASES = {"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag", "enum.ReprEnum"}


class _Target:
    """What a name resolved to: its qualified name and the binding in its stub (None for builtins or a module)."""

    __slots__ = ("qual", "binding", "stub")

    def __init__(self, qual: str, binding=None, stub=None) -> None:
        self.qual = qual
        self.binding = binding
        self.stub = stub


class StubReader:
    def __init__(self, index, defs) -> None:
        self.index = index
        self.defs = defs
        self._aliases = {}  # (module, name) -> node, for aliases without TypeVars
        self._lookups = {}  # (module, name) -> _Target or None
        self._typevar_names = {}  # (module, id(expr)) -> [TypeVar names in an alias]

    # --------------------------------------------------------------------------------- name lookup

    def lookup(self, module: str, name: str, hops: int = 0):
        """The _Target that ``name`` is bound to in ``module``'s stub (following imports), or None."""
        key = (module, name)
        if key in self._lookups:
            return self._lookups[key]
        if hops > MAX_RESOLVE:
            return None
        self._lookups[key] = None  # a cycle of imports resolves to nothing
        found = self._lookup(module, name, hops)
        self._lookups[key] = found
        return found

    def _lookup(self, module: str, name: str, hops: int):
        stub = self.index.module(module)
        if stub is None:
            return _Target("%s.%s" % (module, name)) if module in ("builtins", "typing", "typing_extensions",
                                                                    "collections.abc") else None
        binding = stub.names.get(name)
        if binding is None:
            for source in stub.star:
                found = self.lookup(source, name, hops + 1)
                if found is not None:
                    return found
            if stub.name == "builtins":
                return _Target("builtins." + name)
            return None
        if binding.kind == "import":
            qual = "%s.%s" % (binding.module, binding.name)
            found = self.lookup(binding.module, binding.name, hops + 1)
            if found is None:
                submodule = self.index.module(qual)  # ``from pkg import submodule``
                return _Target(qual, _module_binding(qual), submodule) if submodule is not None else _Target(qual)
            if known(qual, []) is not None or canonical(qual) in SPECIAL_FORMS:
                return _Target(qual, found.binding, found.stub)  # keep the public name known.py knows
            return found
        if binding.kind == "module":
            return _Target(binding.module, binding, None)
        return _Target("%s.%s" % (stub.name, name), binding, stub)

    def _resolve(self, module: str, expr, hops: int = 0):
        """The _Target of a Name or Attribute expression in ``module``'s stub."""
        if isinstance(expr, ast.Name):
            found = self.lookup(module, expr.id)
            if found is None:
                found = self.lookup("builtins", expr.id) if self.index.module("builtins") else None
            return found or _Target("builtins." + expr.id)
        if isinstance(expr, ast.Attribute):
            base = self._resolve(module, expr.value, hops + 1)
            if base is None:
                return None
            if base.binding is not None and base.binding.kind == "module":
                return self.lookup(base.binding.module, expr.attr) or _Target(base.binding.module + "." + expr.attr)
            if base.binding is None and base.stub is None:  # a module known only by name
                return self.lookup(base.qual, expr.attr) or _Target(base.qual + "." + expr.attr)
            return _Target(base.qual + "." + expr.attr)
        return None

    # --------------------------------------------------------------------------------- expressions

    def expr(self, module: str, expr, depth: int = 0, bound=None) -> dict:
        try:
            return self._expr(module, expr, depth, bound or {})
        except RecursionError:
            return ANY
        except Exception:
            return ANY

    def _expr(self, module: str, e, depth: int, bound: dict) -> dict:
        if e is None or depth > MAX_DEPTH:
            return ANY
        if isinstance(e, ast.Constant):
            if e.value is None:
                return node("none")
            if isinstance(e.value, str):  # a forward reference
                try:
                    return self._expr(module, ast.parse(e.value, mode="eval").body, depth + 1, bound)
                except SyntaxError:
                    return ANY
            return ANY
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.BitOr):
            return union([self._expr(module, e.left, depth + 1, bound), self._expr(module, e.right, depth + 1, bound)])
        if isinstance(e, ast.Name) and e.id in bound:
            return bound[e.id]
        if isinstance(e, (ast.Name, ast.Attribute)):
            return self._target(self._resolve(module, e), [], depth)
        if isinstance(e, ast.Subscript):
            return self._subscript(module, e, depth, bound)
        return ANY

    def _subscript(self, module: str, e, depth: int, bound: dict) -> dict:
        target = self._resolve(module, e.value) if isinstance(e.value, (ast.Name, ast.Attribute)) else None
        if target is None:
            return ANY
        q = canonical(target.qual)
        form = SPECIAL_FORMS.get(q)
        items = list(e.slice.elts) if isinstance(e.slice, ast.Tuple) else [e.slice]
        if form == "literal":
            return self._literal(module, items)
        if form == "annotated":
            return self._expr(module, items[0], depth + 1, bound)
        if form in ("union",):
            return union([self._expr(module, i, depth + 1, bound) for i in items])
        if form == "optional":
            return union([self._expr(module, items[0], depth + 1, bound), node("none")])
        if form == "callable":
            return node("obj", cls="collections.abc.Callable")
        if form == "inner":
            return self._expr(module, items[0], depth + 1, bound)
        if form == "bool":
            return node("bool")
        if form == "any":
            return ANY
        if q in ("builtins.tuple", "typing.Tuple") and len(items) == 2 and isinstance(items[1], ast.Constant) \
                and items[1].value is Ellipsis:
            return node("list", of=self._expr(module, items[0], depth + 1, bound))
        if q in ("builtins.tuple", "typing.Tuple") and len(items) == 1 and isinstance(items[0], ast.Tuple) \
                and not items[0].elts:
            return node("tuple", of=[])
        args = [ANY if isinstance(i, (ast.List,)) or (isinstance(i, ast.Constant) and i.value is Ellipsis)
                else self._expr(module, i, depth + 1, bound) for i in items]
        return self._target(target, args, depth, items, module)

    def _literal(self, module: str, items) -> dict:
        values = []
        for item in items:
            if isinstance(item, ast.Subscript):  # Literal[Literal["a"], "b"]
                inner = self._subscript(module, item, 0, {})
                if inner.get("k") != "lit":
                    return ANY
                values.extend(inner["of"])
                continue
            try:
                value = ast.literal_eval(item)
            except Exception:
                return ANY  # an Enum member, ...
            if not json_value(value):
                return ANY
            values.append(value)
        return node("lit", of=values)

    def _target(self, target, args: list, depth: int, arg_exprs=None, module=None) -> dict:
        if target is None:
            return ANY
        found = known(target.qual, args)
        if found is not None:
            return found
        b = target.binding
        if b is None:
            return ANY
        if b.kind == "alias":
            return self._alias(target, args, arg_exprs, module, depth)
        if b.kind == "typevar":
            return self._typevar(b, depth)
        if b.kind == "class":
            return self._class(target, depth)
        return ANY

    def _alias(self, target, args: list, arg_exprs, module, depth: int) -> dict:
        b = target.binding
        params = self._typevars_in(b.module, b.node)
        if not params:
            key = (b.module, b.name)
            if key not in self._aliases:
                self._aliases[key] = ANY  # a recursive alias sees any
                self._aliases[key] = self._expr(b.module, b.node, depth + 1, {})
            return self._aliases[key]
        bound = {name: (args[i] if i < len(args) else ANY) for i, name in enumerate(params)}
        return self._expr(b.module, b.node, depth + 1, bound)

    def _typevars_in(self, module: str, expr) -> list:
        """Names in ``expr`` bound to TypeVars in ``module``, in order of first appearance."""
        key = (module, id(expr))
        if key not in self._typevar_names:
            self._typevar_names[key] = self._find_typevars(module, expr)
        return self._typevar_names[key]

    def _find_typevars(self, module: str, expr) -> list:
        seen = []
        for sub in ast.walk(expr):
            if isinstance(sub, ast.Name) and sub.id not in seen:
                target = self.lookup(module, sub.id)
                if target is not None and target.binding is not None and target.binding.kind == "typevar":
                    seen.append(sub.id)
        return seen

    def _typevar(self, b, depth: int) -> dict:
        call = b.node
        options = [self._expr(b.module, a, depth + 1, {}) for a in call.args[1:]]
        for kw in call.keywords:
            if kw.arg == "bound":
                options = [self._expr(b.module, kw.value, depth + 1, {})]
        return node("tv", name=b.name, of=options)

    # ------------------------------------------------------------------------------------- classes

    def _bases(self, stub, cls) -> list:
        out = []
        for base in cls.bases:
            expr = base.value if isinstance(base, ast.Subscript) else base
            if isinstance(expr, (ast.Name, ast.Attribute)):
                target = self._resolve(stub.name, expr)
                if target is not None:
                    out.append(target)
        return out

    def _class(self, target, depth: int) -> dict:
        stub, cls = target.stub, target.binding.node
        ref = target.qual
        if self.defs.has(ref):
            return node("def", ref=ref)
        bases = self._bases(stub, cls)
        quals = {canonical(b.qual) for b in bases}
        if "typing.TypedDict" in quals:
            total = not any(k.arg == "total" and isinstance(k.value, ast.Constant) and k.value.value is False
                            for k in cls.keywords)
            return self._fields_def(stub, cls, ref, "typeddict", depth, total)
        if "typing.NamedTuple" in quals:
            return self._fields_def(stub, cls, ref, "namedtuple", depth, True)
        if quals & _ENUM_BASES:
            values, members = [], []
            for stmt in cls.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    try:
                        value = ast.literal_eval(stmt.value)
                    except Exception:
                        return node("obj", cls=ref)
                    values.append(value)
                    members.append(stmt.targets[0].id)
            if values and all(json_value(v) for v in values):
                self.defs.put(ref, {"kind": "enum", "name": cls.name, "doc": {}, "values": values,
                                    "members": members})
                return node("def", ref=ref)
            return node("obj", cls=ref)
        for b in bases:  # a subclass of a known class is that class (numpy's str_ is a str)
            found = known(b.qual, [])
            if found is not None and found.get("k") not in ("any",):
                return found
        return node("obj", cls=ref)

    def _fields_def(self, stub, cls, ref: str, kind: str, depth: int, total: bool) -> dict:
        self.defs.start(ref)
        fields = []
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                tp = self.expr(stub.name, stmt.annotation, depth + 1)
                required = total if kind == "typeddict" else stmt.value is None
                ann = stmt.annotation
                if isinstance(ann, ast.Subscript) and isinstance(ann.value, (ast.Name, ast.Attribute)):
                    wrapper = canonical(self._resolve(stub.name, ann.value).qual)
                    if wrapper == "typing.NotRequired":
                        required = False
                    elif wrapper == "typing.Required":
                        required = True
                fields.append({"name": stmt.target.id, "type": tp, "required": required})
        self.defs.put(ref, {"kind": kind, "name": cls.name, "doc": {}, "fields": fields})
        return node("def", ref=ref)

    # ---------------------------------------------------------------------------------- signatures

    def signatures(self, module: str, path: str):
        """One signature per overload of ``module.path`` in the stubs, or None when the stubs do not say."""
        parts = path.split(".")
        target = self.lookup(module, parts[0])
        for part in parts[1:]:
            if target is None or target.binding is None or target.binding.kind != "class":
                return None
            member = _class_member(target.binding.node, part)
            if member is None:
                return None
            target = _Target(target.qual + "." + part, member, target.stub)
        if target is None or target.binding is None:
            return None
        b = target.binding
        stub = target.stub
        if b.kind == "func":
            return self._defs_signatures(stub.name, b.nodes, method=len(parts) > 1)
        if b.kind == "class":  # a constructor: __init__'s parameters, the class as the result
            init = _class_member(b.node, "__init__") or _class_member(b.node, "__new__")
            result = self._class(target, 0) if known(target.qual, []) is None else known(target.qual, [])
            if init is None:
                return [{"params": [], "returns": result, "open": True}]
            sigs = self._defs_signatures(stub.name, init.nodes, method=True)
            for s in sigs:
                s["returns"] = result
            return sigs
        if b.kind == "var":  # an object whose class has __call__ (a numpy ufunc)
            ann = b.node
            while isinstance(ann, ast.Subscript) and isinstance(ann.value, (ast.Name, ast.Attribute)) and \
                    SPECIAL_FORMS.get(canonical(getattr(self._resolve(stub.name, ann.value), "qual", ""))) == "inner":
                ann = ann.slice  # Final[X], ClassVar[X]
            cls_expr = ann.value if isinstance(ann, ast.Subscript) else ann
            if not isinstance(cls_expr, (ast.Name, ast.Attribute)):
                return None
            cls_target = self._resolve(stub.name, cls_expr)
            if cls_target is None or cls_target.binding is None or cls_target.binding.kind != "class":
                return None
            call = _class_member(cls_target.binding.node, "__call__")
            if call is None:
                return None
            return self._defs_signatures(cls_target.stub.name, call.nodes, method=True)
        return None

    def _defs_signatures(self, module: str, defs, method: bool) -> list:
        out = []
        for d in defs[:MAX_OVERLOADS]:
            out.append(self._signature(module, d, method))
        return out

    def _signature(self, module: str, d, method: bool) -> dict:
        a = d.args
        params = []
        positional = [(p, "positional_only") for p in a.posonlyargs] + [(p, "positional_or_keyword") for p in a.args]
        defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
        static = any(decorator_name(x) == "staticmethod" for x in d.decorator_list)
        for i, ((p, kind), default) in enumerate(zip(positional, defaults)):
            if method and i == 0 and not static:
                continue  # self / cls
            if p.arg.startswith("__") and not p.arg.endswith("__"):
                kind = "positional_only"  # the old spelling of positional-only parameters in stubs
            params.append(self._param(module, p, kind, default is not None))
        if a.vararg is not None:
            params.append(self._param(module, a.vararg, "var_positional", True))
        for p, default in zip(a.kwonlyargs, a.kw_defaults):
            params.append(self._param(module, p, "keyword_only", default is not None))
        if a.kwarg is not None:
            params.append(self._param(module, a.kwarg, "var_keyword", True))
        return {"params": params, "returns": self.expr(module, d.returns) if d.returns is not None else ANY}

    def _param(self, module: str, p, kind: str, optional: bool) -> dict:
        name = p.arg.lstrip("_") if p.arg.startswith("__") and not p.arg.endswith("__") else p.arg
        return {"name": name, "kind": kind, "optional": optional,
                "type": self.expr(module, p.annotation) if p.annotation is not None else ANY}


def _module_binding(qual: str):
    return Binding("module", qual, None)


def _class_member(cls, name: str):
    """A Binding for the method ``name`` of a class statement (its overloads together), or a nested class."""
    found = []
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
            if any(decorator_name(d) == "property" for d in stmt.decorator_list):
                return None
            found.append(stmt)
        elif isinstance(stmt, ast.ClassDef) and stmt.name == name:
            return Binding("class", "", name, stmt)
    if not found:
        return None
    overloads = [f for f in found if any(decorator_name(d) == "overload" for d in f.decorator_list)]
    nodes = overloads or found[-1:]
    return Binding("func", "", name, nodes[0], nodes)
