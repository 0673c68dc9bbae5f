"""A docstring split into what JSDoc shows: a summary, the prose after it, and per-section texts.

``doc_parts(doc)`` -> ``{"summary", "body", "params": {name: text}, "returns", "yields", "attributes": {...}}``
(only the keys that have text). Parameter texts come from ``schema.param_descriptions`` (Google, NumPy and reST
styles), the same reader ``describe()`` uses; Returns / Yields / Attributes are read here in the same three
styles. The body stops at the first section heading, and is cut to ``MAX_BODY`` characters so that a library
with long docstrings (numpy's carry examples and notes) still gives a readable file.
"""

from __future__ import annotations

import inspect
import re

from ..schema import param_descriptions

__all__ = ["doc_parts", "MAX_BODY", "MAX_SECTION"]

MAX_BODY = 1200
MAX_SECTION = 600

_GOOGLE_HEAD = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Returns|Return|"
                          r"Yields|Yield|Raises|Attributes|Examples|Example|Notes|Note|See Also|References|"
                          r"Warnings|Warning|Todo)\s*:\s*$")
_NUMPY_HEAD = re.compile(r"^(Parameters|Other Parameters|Returns|Yields|Raises|Warns|Attributes|Methods|Examples|"
                         r"Notes|See Also|References|Warnings)\s*$")
_REST_FIELD = re.compile(r"^:(param|type|returns?|rtype|raises?|yields?|ivar|var|cvar)\b")
_REST_RETURNS = re.compile(r"^:returns?:\s*(.*)$")
_REST_YIELDS = re.compile(r"^:yields?:\s*(.*)$")
_DIRECTIVE = re.compile(r"^\.\. ")


def _is_heading(lines: list, i: int) -> bool:
    line = lines[i].strip()
    if _GOOGLE_HEAD.match(line) and not lines[i].startswith((" ", "\t")):
        return True
    if _NUMPY_HEAD.match(line) and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
        return True
    return bool(_REST_FIELD.match(line)) or bool(_DIRECTIVE.match(line))


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def _result_section(lines: list, titles: tuple, rest) -> str:
    """A Returns / Yields section (Google or NumPy style), else the text of its reST field (``:returns: ...``)."""
    text = _section(lines, titles)
    if text:
        return text
    for line in lines:
        m = rest.match(line.strip())
        if m and m.group(1):
            return _clip(m.group(1), MAX_SECTION)
    return ""


def _section(lines: list, names: tuple) -> str:
    """The text of a Returns-like section (Google ``Returns:`` or NumPy ``Returns`` over dashes), joined.

    A NumPy item is a ``name : type`` line with its text indented under it: it reads ``name : type — text``.
    """
    for i, line in enumerate(lines):
        stripped = line.strip()
        google = stripped.rstrip(":") in names and stripped.endswith(":") and not line.startswith((" ", "\t"))
        numpy = stripped in names and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}
        if not (google or numpy):
            continue
        out = []
        for j in range(i + (2 if numpy else 1), len(lines)):
            text = lines[j]
            indented = text.startswith((" ", "\t"))
            if not text.strip():
                out.append("")
                continue
            if google and not indented:
                break
            if numpy and not indented:
                if j + 1 < len(lines) and set(lines[j + 1].strip()) == {"-"}:
                    break  # the next section
                if out and out[-1] != "":
                    out.append("")  # the next item: its own paragraph
                out.append(text.strip())
                continue
            if numpy and out and out[-1] and _numpy_item_head(out):
                out[-1] += " —"
            out.append(text.strip())
        joined = _join(out)
        if joined:
            return _clip(joined, MAX_SECTION)
    return ""


def _numpy_item_head(out: list) -> bool:
    """True when the last line collected is an item's ``name : type`` line (the one before its text)."""
    return len(out) == 1 or out[-2] == ""


def _join(lines: list) -> str:
    """Lines into text: paragraphs kept, lines of one paragraph joined with spaces."""
    paragraphs, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def _attributes(lines: list) -> dict:
    """``Attributes:`` (Google) / ``Attributes`` (NumPy) entries, read like parameters."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped not in ("Attributes:", "Attributes") or line.startswith((" ", "\t")):
            continue
        numpy = stripped == "Attributes"
        if numpy and not (i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}):
            continue
        head = ["Parameters", "----------"] if numpy else ["Args:"]
        section = []
        for text in lines[i + (2 if numpy else 1):]:
            if text.strip() and not text.startswith((" ", "\t")) and (not numpy or _is_heading([text, ""], 0)):
                break
            section.append(text)
        try:
            # a first line of its own: cleandoc dedents the lines after the first one
            return param_descriptions("\n".join(["-", ""] + head + section))
        except Exception:
            return {}
    return {}


def _without_doctests(lines: list) -> list:
    """The lines without interactive examples (``>>>`` and the output under them, up to a blank line)."""
    out, skipping = [], False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(">>>"):
            skipping = True
        elif not stripped:
            skipping = False
        if not skipping:
            out.append(line)
    return out


def doc_parts(doc) -> dict:
    """See the module docstring; ``{}`` for no docstring."""
    if not isinstance(doc, str) or not doc.strip():
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    if len(lines) > 2000:  # a pathological docstring: read its start only
        lines = lines[:2000]
    end = len(lines)
    for i in range(len(lines)):
        if _is_heading(lines, i):
            end = i
            break
    prose = [p for p in _join(_without_doctests(lines[:end])).split("\n\n")]
    out = {}
    if prose and prose[0]:
        out["summary"] = _clip(prose[0], MAX_SECTION)
    body = "\n\n".join(p for p in prose[1:] if p)
    if body:
        out["body"] = _clip(body, MAX_BODY)
    try:
        params = param_descriptions(doc)
    except Exception:
        params = {}
    params = {k: _clip(v, MAX_SECTION) for k, v in params.items() if v}
    if params:
        out["params"] = {k: params[k] for k in sorted(params)}
    for key, titles, rest in (("returns", ("Returns", "Return"), _REST_RETURNS),
                              ("yields", ("Yields", "Yield"), _REST_YIELDS)):
        text = _result_section(lines, titles, rest)
        if text:
            out[key] = text
    attributes = {k: _clip(v, MAX_SECTION) for k, v in _attributes(lines).items() if v}
    if attributes:
        out["attributes"] = {k: attributes[k] for k in sorted(attributes)}
    return out
