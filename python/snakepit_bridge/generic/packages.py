"""Which configured libraries are missing from this interpreter: ``python -m snakepit_bridge.generic.packages``.

The host runs this before starting a pool whose libraries ask to be installed on start (``install``), with one
JSON argument and reads one JSON line back:

    [{"module": "numpy", "package": "numpy", "version": ">=1.26"}, ...]
    -> [{"module", "package", "installed": "2.1.0" | null, "satisfied": bool, "reason": str}, ...]

A library is satisfied when its module's top-level package can be found (without importing it) and, when a
version is asked for, the installed distribution's version meets every clause. Versions are compared by their
release numbers (``1.26.4``); pre-release and local parts are ignored, which is enough to decide "install or
not" (pip, which then installs, applies the full rules). The standard library only: ``packaging`` is not needed.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys

__all__ = ["check", "satisfies", "main"]

_RELEASE = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")
_CLAUSE = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*(\S+)\s*$")


def _release(version: str):
    m = _RELEASE.match(version)
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _padded(a, b):
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


def satisfies(installed: str, clauses: str) -> bool:
    """True if version ``installed`` meets every comma-separated clause (``>=1.26,<3``, ``==2.2.*``)."""
    have = _release(installed)
    for clause in clauses.split(","):
        m = _CLAUSE.match(clause)
        if m is None:
            return False
        op, want_text = m.groups()
        if op == "===":
            if installed != want_text:
                return False
            continue
        wildcard = want_text.endswith(".*")
        want = _release(want_text[:-2] if wildcard else want_text)
        if have is None or want is None:
            return False
        if wildcard:
            same = have[:len(want)] == want
            if (op == "==") != same:
                return False
            continue
        a, b = _padded(have, want)
        if op == "~=":  # >= want, and the same release except the last number
            if not (a >= b and have[:len(want) - 1] == want[:-1]):
                return False
        elif not {"==": a == b, "!=": a != b, "<=": a <= b, ">=": a >= b, "<": a < b, ">": a > b}[op]:
            return False
    return True


def _installed_version(package: str):
    try:
        from importlib import metadata
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        return metadata.version(package)
    except Exception:
        return None


def check(requests: list) -> list:
    """The state of each requested library (see the module docstring)."""
    out = []
    for req in requests:
        module, package, version = req.get("module"), req.get("package"), req.get("version")
        top = str(module).split(".")[0]
        try:
            found = importlib.util.find_spec(top) is not None
        except (ImportError, ValueError):
            found = False
        installed = _installed_version(package) if package else None
        if not found:
            satisfied, reason = False, "module %r not found" % top
        elif version and installed is None:
            satisfied, reason = False, "distribution %r not installed (module %r found elsewhere)" % (package, top)
        elif version and not satisfies(installed, version):
            satisfied, reason = False, "installed %s does not satisfy %s" % (installed, version)
        else:
            satisfied, reason = True, "ok"
        out.append({"module": module, "package": package, "installed": installed, "satisfied": satisfied,
                    "reason": reason})
    return out


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m snakepit_bridge.generic.packages '[{\"module\": ...}]'\n")
        return 2
    try:
        requests = json.loads(args[0])
        if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
            raise ValueError("expected a list of objects")
    except ValueError as exc:
        sys.stderr.write("bad request: %s\n" % exc)
        return 2
    sys.stdout.write(json.dumps(check(requests)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
