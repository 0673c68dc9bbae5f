"""Parameter descriptions from a docstring (``param_descriptions``), for the ``description`` of each property.

Three styles, each read by its own small parser into one ``{name: text}`` map: Google (``Args:`` with
``name (type): text``), NumPy (``Parameters`` over a ``----`` line) and reST (``:param name: text``).
Hand-written rather than a docstring library: the bridge's core is standard library only.
"""

from __future__ import annotations

from ..signature import cleandoc

# Words one of the three styles needs: a docstring without any has no parameter descriptions, and is read
# without ``re`` (which a worker then never imports for its tools' docstrings).
_MARKERS = ("Args", "Arguments", "Param", ":param")
_SECTION = _GOOGLE_ITEM = _NUMPY_HEAD = _NUMPY_ITEM = _REST_ITEM = None


def _compile() -> None:
    global _SECTION, _GOOGLE_ITEM, _NUMPY_HEAD, _NUMPY_ITEM, _REST_ITEM
    import re

    _SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments)\s*:\s*$")
    _GOOGLE_ITEM = re.compile(r"^(\s*)\*{0,2}([A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*:\s*(.*)$")
    _NUMPY_HEAD = re.compile(r"^\s*(Parameters|Other Parameters)\s*$")
    _NUMPY_ITEM = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*(:.*)?$")
    _REST_ITEM = re.compile(r"^\s*:param\s+(?:[^:]*\s)?([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$")


def param_descriptions(doc) -> dict:
    """``{parameter: description}`` from a docstring in Google, NumPy or reST (``:param x:``) style."""
    if not doc or not any(marker in doc for marker in _MARKERS):
        return {}
    if _REST_ITEM is None:
        _compile()
    lines = cleandoc(doc).splitlines()
    found = {}
    _google(lines, found)
    _numpy(lines, found)
    _rest(lines, found)
    return found


def _google(lines: list, found: dict) -> None:
    i = 0
    while i < len(lines):
        if not _SECTION.match(lines[i]):
            i += 1
            continue
        i += 1
        indent = None
        name = None
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                if i < len(lines) and lines[i].strip() and not lines[i].startswith((" ", "\t")):
                    break
                continue
            lead = len(line) - len(line.lstrip())
            if lead == 0:
                break
            m = _GOOGLE_ITEM.match(line)
            if m and (indent is None or lead == indent):
                indent = lead
                name = m.group(2)
                found.setdefault(name, m.group(4).strip())
            elif name is not None and indent is not None and lead > indent:
                found[name] = (found[name] + " " + line.strip()).strip()
            i += 1


def _numpy(lines: list, found: dict) -> None:
    i = 0
    while i < len(lines) - 1:
        if not (_NUMPY_HEAD.match(lines[i]) and set(lines[i + 1].strip()) == {"-"}):
            i += 1
            continue
        i += 2
        name = None
        base = None
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            if i + 1 < len(lines) and lines[i + 1].strip() and set(lines[i + 1].strip()) == {"-"}:
                break  # the next section
            lead = len(line) - len(line.lstrip())
            m = _NUMPY_ITEM.match(line)
            if m and (base is None or lead == base):
                base = lead
                name = m.group(2)
                found.setdefault(name, "")
            elif name is not None and base is not None and lead > base:
                found[name] = (found[name] + " " + line.strip()).strip()
            else:
                break
            i += 1


def _rest(lines: list, found: dict) -> None:
    name = None
    for line in lines:
        m = _REST_ITEM.match(line)
        if m:
            name = m.group(1)
            found.setdefault(name, m.group(2).strip())
        elif name is not None and line.startswith((" ", "\t")) and line.strip() and not line.strip().startswith(":"):
            found[name] = (found[name] + " " + line.strip()).strip()
        else:
            name = None
