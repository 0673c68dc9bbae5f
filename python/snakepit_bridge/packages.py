"""Which distributions are installed, and do they satisfy a requirement? Standard library only.

The host's ``PythonPackages.checkInstalled`` runs ``python -m snakepit_bridge.packages SPEC...`` with the
interpreter it checks, and reads one JSON object from stdout::

    {"python": "3.11.7", "executable": "...", "packages": [
        {"spec": "numpy>=1.26", "name": "numpy", "installed": "1.26.4", "satisfied": true},
        {"spec": "pandas", "name": "pandas", "installed": null, "satisfied": false, "reason": "not installed"}]}

``packaging`` is not guaranteed to be installed, so versions are compared here with the basics of PEP 440:

- versions: ``[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`` (alternative spellings such as ``1.0-1``,
  ``1.0alpha1``, ``v1.0`` are normalised as PEP 440 says);
- operators: ``==``, ``!=`` (both with a trailing ``.*`` prefix match), ``>=``, ``<=``, ``>``, ``<``, ``~=``,
  ``===`` (exact string);
- a local label (``+cpu``) on the installed version is ignored unless the clause names one;
- simplified: ``>V`` and ``<V`` compare plainly (PEP 440 also excludes post- and pre-releases of ``V`` there), and
  an installed pre-release satisfies a clause it compares true against; extras (``pkg[extra]``) check the
  distribution itself, not the extra's dependencies; environment markers are not accepted.
"""

from __future__ import annotations

import json
import re
import sys

__all__ = ["Version", "parse_requirement", "satisfies", "installed_versions", "check", "normalize_name"]

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_REQUIREMENT = re.compile(r"^\s*(%s)\s*(?:\[([A-Za-z0-9._,\s-]*)\])?\s*(.*?)\s*$" % _NAME)
_CLAUSE = re.compile(r"^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$")
_VERSION = re.compile(
    r"""^\s*v?
    (?:(?P<epoch>\d+)!)?
    (?P<release>\d+(?:\.\d+)*)
    (?:[-_.]?(?P<pre_l>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?P<pre_n>\d+)?)?
    (?:-(?P<post_n1>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d+)?)?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_PRE_ORDER = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_INF = float("inf")


def normalize_name(name: str) -> str:
    """PEP 503: lower case, and runs of ``-``, ``_``, ``.`` become one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Version:
    """A PEP 440 version, comparable with ``<``, ``==`` and friends.

    Raises:
        ValueError: the text is not a PEP 440 version.
    """

    __slots__ = ("text", "epoch", "release", "pre", "post", "dev", "local")

    def __init__(self, text: str):
        m = _VERSION.match(text)
        if not m:
            raise ValueError("not a PEP 440 version: %r" % text)
        self.text = text
        self.epoch = int(m.group("epoch") or 0)
        self.release = tuple(int(p) for p in m.group("release").split("."))
        pre_l = m.group("pre_l")
        self.pre = (_PRE_ORDER[pre_l.lower()], int(m.group("pre_n") or 0)) if pre_l else None
        post_n = m.group("post_n1") or m.group("post_n2")
        self.post = int(post_n or 0) if (m.group("post_n1") or m.group("post_l")) else None
        self.dev = int(m.group("dev_n") or 0) if m.group("dev_l") else None
        local = m.group("local")
        self.local = tuple(re.split(r"[-_.]", local.lower())) if local else None

    def public(self) -> "Version":
        """This version without its local label."""
        copy = Version.__new__(Version)
        for slot in Version.__slots__:
            setattr(copy, slot, getattr(self, slot))
        copy.local = None
        return copy

    def _key(self):
        release = list(self.release)
        while len(release) > 1 and release[-1] == 0:
            release.pop()
        # As packaging orders them: 1.0.dev0 < 1.0a0 < 1.0 < 1.0.post0; a dev release of a pre or post
        # release sorts before it.
        if self.pre is None and self.post is None and self.dev is not None:
            pre = (-_INF, 0)
        elif self.pre is None:
            pre = (_INF, 0)
        else:
            pre = self.pre
        post = -_INF if self.post is None else self.post
        dev = _INF if self.dev is None else self.dev
        if self.local is None:
            local = ((-_INF, ""),)
        else:
            local = tuple((int(p), "") if p.isdigit() else (-_INF, p) for p in self.local)
        return (self.epoch, tuple(release), pre, post, dev, local)

    def __eq__(self, other):
        return isinstance(other, Version) and self._key() == other._key()

    def __lt__(self, other):
        return self._key() < other._key()

    def __le__(self, other):
        return self._key() <= other._key()

    def __gt__(self, other):
        return self._key() > other._key()

    def __ge__(self, other):
        return self._key() >= other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return "Version(%r)" % self.text


def parse_requirement(spec: str):
    """``"pkg[extra]>=1,<2"`` -> ``("pkg", ["extra"], [(">=", "1"), ("<", "2")])``.

    Raises:
        ValueError: ``spec`` is outside the accepted grammar (see the module docstring).
    """
    m = _REQUIREMENT.match(spec)
    if not m:
        raise ValueError("not a requirement: %r" % spec)
    name, extras, rest = m.group(1), m.group(2), m.group(3)
    clauses = []
    if rest:
        for part in rest.split(","):
            c = _CLAUSE.match(part.strip())
            if not c:
                raise ValueError("malformed version clause %r in %r" % (part.strip(), spec))
            clauses.append((c.group(1), c.group(2)))
    return name, [e.strip() for e in extras.split(",")] if extras else [], clauses


def _prefix_match(installed: Version, prefix_text: str) -> bool:
    prefix = Version(prefix_text)
    if installed.epoch != prefix.epoch:
        return False
    want = list(prefix.release)
    have = list(installed.release) + [0] * max(0, len(want) - len(installed.release))
    return have[: len(want)] == want


def satisfies(installed_text: str, op: str, wanted: str) -> bool:
    """Whether the installed version satisfies one clause.

    Raises:
        ValueError: a version is not PEP 440 (only ``===`` compares such versions).
    """
    if op == "===":
        return installed_text.strip().lower() == wanted.strip().lower()
    installed = Version(installed_text)
    if wanted.endswith(".*"):
        match = _prefix_match(installed, wanted[:-2])
        if op == "==":
            return match
        if op == "!=":
            return not match
        raise ValueError("a .* wildcard only goes with == or !=")
    target = Version(wanted)
    if target.local is None:
        installed = installed.public()
    if op == "==":
        return installed == target
    if op == "!=":
        return installed != target
    if op == ">=":
        return installed >= target
    if op == "<=":
        return installed <= target
    if op == ">":
        return installed > target
    if op == "<":
        return installed < target
    if op == "~=":
        if len(target.release) < 2:
            raise ValueError("~= needs at least two release numbers, got %r" % wanted)
        prefix = ".".join(str(p) for p in target.release[:-1])
        if target.epoch:
            prefix = "%d!%s" % (target.epoch, prefix)
        return installed >= target and _prefix_match(installed, prefix)
    raise ValueError("unknown operator %r" % op)


def installed_versions() -> dict:
    """``{normalized name: version}`` of every distribution on ``sys.path`` (the first one found wins)."""
    from importlib import metadata

    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(normalize_name(name), dist.version)
    return found


def check(specs, installed=None) -> list:
    """Check each requirement against the installed distributions; one result dict per spec (see above)."""
    installed = installed_versions() if installed is None else installed
    results = []
    for spec in specs:
        entry = {"spec": spec, "name": spec, "installed": None, "satisfied": False}
        try:
            name, _extras, clauses = parse_requirement(spec)
        except ValueError as exc:
            entry["reason"] = str(exc)
            results.append(entry)
            continue
        entry["name"] = name
        version = installed.get(normalize_name(name))
        entry["installed"] = version
        if version is None:
            entry["reason"] = "not installed"
        else:
            try:
                failed = [op + v for op, v in clauses if not satisfies(version, op, v)]
            except ValueError as exc:
                failed = None
                entry["reason"] = "cannot compare %s: %s" % (version, exc)
            if failed:
                entry["reason"] = "installed %s does not satisfy %s" % (version, ",".join(failed))
            elif failed == []:
                entry["satisfied"] = True
        results.append(entry)
    return results


def main(argv=None) -> int:
    """``python -m snakepit_bridge.packages SPEC...``: print the check as JSON; exit 0 (the JSON says the rest)."""
    specs = sys.argv[1:] if argv is None else argv
    json.dump({
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "packages": check(specs),
    }, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
