"""The argument checks: ``compile_check(schema)`` turns a JSON Schema into a function the dispatcher runs on
each argument before a tool runs (a problem becomes ``invalid_arguments`` naming the parameter).

This is on the hot path of every call, so the work is done once, at compile time: each keyword becomes a
small closure ("step"), a schema with only a ``type`` becomes a set lookup, values of types the codecs do not
produce pass at once, and arrays are checked element by element only up to ``MAX_ITEMS_CHECKED``.
"""

from __future__ import annotations


# Arrays are checked element by element up to this many items; the rest are trusted (a 10,000-float
# argument must not cost a millisecond of checks per call).
MAX_ITEMS_CHECKED = 256
_NoneType = type(None)

# Values the checks understand: what the codecs decode. Anything else (a resolved object reference, a
# numpy array or a datetime from an extended codec tag) is accepted as it is.
_PLAIN = frozenset([_NoneType, bool, int, float, str, bytes, bytearray, list, tuple, dict])


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_name(value) -> str:
    return {_NoneType: "null", bool: "boolean", int: "integer", float: "number", str: "string",
            bytes: "bytes", bytearray: "bytes", list: "array", tuple: "array", dict: "object"}.get(
        type(value), type(value).__name__)


def _is_type(value, name: str, fmt) -> bool:
    t = type(value)
    if name == "string":
        if fmt == "binary":
            return t in (bytes, bytearray)
        return t is str
    if name == "integer":
        return t is int or (t is float and value.is_integer())
    if name == "number":
        return t is int or t is float
    if name == "boolean":
        return t is bool
    if name == "null":
        return value is None
    if name == "array":
        return t is list or t is tuple
    if name == "object":
        return t is dict
    return True


def _same(a, b) -> bool:
    return a == b and (type(a) is bool) == (type(b) is bool)


def _path(base: str, key) -> str:
    return "%s[%d]" % (base, key) if isinstance(key, int) else ("%s.%s" % (base, key) if base else str(key))


def compile_check(schema):
    """A function ``check(value, path) -> problem text or None`` for ``schema``; None if it accepts anything.

    Checked: ``type`` (one or a list), ``enum``, ``const``, ``properties``, ``required``,
    ``additionalProperties``, ``items``, ``prefixItems``, ``minItems``/``maxItems``, ``minLength``/``maxLength``,
    ``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum``, ``anyOf``/``oneOf``/``allOf``. Other
    keywords are ignored; values of types the codecs do not produce are accepted.
    """
    if not isinstance(schema, dict) or not schema:
        return None
    steps = []
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        fmt = schema.get("format")

        def check_type(value, path, names=names, fmt=fmt):
            for name in names:
                if _is_type(value, name, fmt):
                    return None
            want = " or ".join("bytes" if (n == "string" and fmt == "binary") else n for n in names)
            return "%s: expected %s, got %s %s" % (path, want, _type_name(value), _short(value))

        steps.append(check_type)
    if "enum" in schema:
        options = list(schema["enum"])

        def check_enum(value, path, options=options):
            if any(_same(value, o) for o in options):
                return None
            return "%s: expected one of %s, got %s" % (path, ", ".join(_short(o) for o in options), _short(value))

        steps.append(check_enum)
    if "const" in schema:
        const = schema["const"]
        steps.append(lambda v, p, c=const: None if _same(v, c) else "%s: expected %s" % (p, _short(c)))
    _number_steps(schema, steps)
    _string_steps(schema, steps)
    _array_steps(schema, steps)
    _object_steps(schema, steps)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            alts = [compile_check(s) for s in schema[key]]
            if any(a is None for a in alts):
                continue

            def check_any(value, path, alts=alts):
                problems = [a(value, path) for a in alts]
                if any(p is None for p in problems):
                    return None
                # The form whose type fits but whose inside does not says more than "none of the forms".
                deeper = [p for p in problems if not p.startswith(path + ": ")]
                if len(problems) == 1 or len(deeper) == 1:
                    return (deeper or problems)[0]
                return "%s: matches none of the %d allowed forms (%s)" % (path, len(problems), problems[0])

            steps.append(check_any)
    for sub in schema.get("allOf") or ():
        c = compile_check(sub)
        if c is not None:
            steps.append(c)
    if not steps:
        return None
    if len(steps) == 1 and types is not None:  # a type alone (the common hint): most values pass on sight
        passing = _passing_types(names, fmt)
        check_type = steps[0]

        def check_only_type(value, path):
            t = type(value)
            if t in passing or t not in _PLAIN:
                return None
            return check_type(value, path)

        return check_only_type

    def check(value, path):
        if type(value) not in _PLAIN:
            return None
        for step in steps:
            problem = step(value, path)
            if problem is not None:
                return problem
        return None

    return check


def _passing_types(names, fmt) -> frozenset:
    """The value types that satisfy one of the type ``names`` whatever the value (see ``_is_type``)."""
    passing = set()
    for name in names:
        if name == "string":
            passing.update((bytes, bytearray) if fmt == "binary" else (str,))
        elif name in ("integer", "number"):
            passing.update((int,) if name == "integer" else (int, float))  # an integral float is checked
        elif name == "boolean":
            passing.add(bool)
        elif name == "null":
            passing.add(_NoneType)
        elif name == "array":
            passing.update((list, tuple))
        elif name == "object":
            passing.add(dict)
        else:  # a type name _is_type does not know accepts anything
            passing.update(_PLAIN)
    return frozenset(passing)


def _number_steps(schema: dict, steps: list) -> None:
    bounds = [(k, schema[k]) for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
              if isinstance(schema.get(k), (int, float)) and not isinstance(schema.get(k), bool)]
    if not bounds:
        return
    tests = {"minimum": (lambda v, b: v >= b, ">="), "maximum": (lambda v, b: v <= b, "<="),
             "exclusiveMinimum": (lambda v, b: v > b, ">"), "exclusiveMaximum": (lambda v, b: v < b, "<")}

    def check_bounds(value, path):
        if type(value) not in (int, float):
            return None
        for key, bound in bounds:
            ok, sign = tests[key]
            if not ok(value, bound):
                return "%s: must be %s %s, got %s" % (path, sign, bound, _short(value))
        return None

    steps.append(check_bounds)


def _string_steps(schema: dict, steps: list) -> None:
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    pattern = schema.get("pattern")
    regex = None
    if isinstance(pattern, str):
        import re  # only for a schema with a pattern: a worker whose tools have none starts without ``re``

        try:
            regex = re.compile(pattern)
        except re.error:
            regex = None
    if lo is None and hi is None and regex is None:
        return

    def check_string(value, path):
        if type(value) is not str:
            return None
        if isinstance(lo, int) and len(value) < lo:
            return "%s: must have at least %d characters, got %d" % (path, lo, len(value))
        if isinstance(hi, int) and len(value) > hi:
            return "%s: must have at most %d characters, got %d" % (path, hi, len(value))
        if regex is not None and not regex.search(value):
            return "%s: must match %s, got %s" % (path, pattern, _short(value))
        return None

    steps.append(check_string)


def _array_steps(schema: dict, steps: list) -> None:
    items = compile_check(schema.get("items")) if isinstance(schema.get("items"), dict) else None
    prefix = [compile_check(s) for s in schema.get("prefixItems") or () if isinstance(s, dict)]
    lo, hi = schema.get("minItems"), schema.get("maxItems")
    if items is None and not any(prefix) and lo is None and hi is None:
        return

    def check_array(value, path):
        t = type(value)
        if t is not list and t is not tuple:
            return None
        n = len(value)
        if isinstance(lo, int) and n < lo:
            return "%s: expected at least %d items, got %d" % (path, lo, n)
        if isinstance(hi, int) and n > hi:
            return "%s: expected at most %d items, got %d" % (path, hi, n)
        for i, c in enumerate(prefix[:n]):
            if c is not None:
                problem = c(value[i], _path(path, i))
                if problem is not None:
                    return problem
        if items is not None:
            for i in range(len(prefix), min(n, MAX_ITEMS_CHECKED)):
                problem = items(value[i], _path(path, i))
                if problem is not None:
                    return problem
        return None

    steps.append(check_array)


def _object_steps(schema: dict, steps: list) -> None:
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    checks = {k: c for k, c in ((k, compile_check(s)) for k, s in props.items()) if c is not None}
    required = [r for r in schema.get("required") or () if isinstance(r, str)]
    extra = schema.get("additionalProperties", True)
    extra_check = compile_check(extra) if isinstance(extra, dict) else None
    closed = extra is False
    if not checks and not required and not closed and extra_check is None:
        return

    def check_object(value, path):
        if type(value) is not dict:
            return None
        for name in required:
            if name not in value:
                return "%s: missing required key %r" % (path, name)
        for key, item in value.items():
            c = checks.get(key)
            if c is not None:
                problem = c(item, _path(path, key))
            elif key in props:
                continue
            elif closed:
                return "%s: unexpected key %r" % (path, key)
            elif extra_check is not None:
                problem = extra_check(item, _path(path, key))
            else:
                continue
            if problem is not None:
                return problem
        return None

    steps.append(check_object)
