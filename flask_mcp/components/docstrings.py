"""Parameter descriptions from a function's docstring.

Tools are usually documented already; reading the docstring spares authors
from writing each parameter's description twice. Two styles are understood:
reST fields (``:param name: text``) and Google-style ``Args:`` sections.
"""

from __future__ import annotations

import inspect
import re

_REST_PARAM = re.compile(r":param\s+(?:[^:]*\s)?(\w+):\s*(.*)")
_GOOGLE_HEADER = re.compile(r"(?:Args|Arguments|Parameters):")
_GOOGLE_ITEM = re.compile(r"(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)")


def param_descriptions(doc: str | None) -> dict[str, str]:
    """Map each documented parameter name to its one-line description.

    :param doc: a docstring, as written or already cleaned.
    """
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    found = _google(lines)
    found.update(_rest(lines))
    return {name: " ".join(parts).strip() for name, parts in found.items()}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _rest(lines: list[str]) -> dict[str, list[str]]:
    """``:param [type] name: text``, continued by more-indented lines."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines:
        match = _REST_PARAM.fullmatch(line.strip())
        if match:
            current = match.group(1)
            found[current] = [match.group(2)]
        elif current and line.strip() and _indent(line) > 0:
            found[current].append(line.strip())
        else:
            current = None
    return found


def _google(lines: list[str]) -> dict[str, list[str]]:
    """``Args:`` then ``name (type): text`` items; deeper lines continue an item."""
    found: dict[str, list[str]] = {}
    section: int | None = None
    item_indent: int | None = None
    current: str | None = None
    for line in lines:
        if not line.strip():
            continue
        indent = _indent(line)
        if section is not None and indent <= section:
            section = None
        if section is None:
            if _GOOGLE_HEADER.fullmatch(line.strip()):
                section, item_indent, current = indent, None, None
            continue
        item_indent = indent if item_indent is None else item_indent
        match = _GOOGLE_ITEM.fullmatch(line.strip())
        if indent == item_indent and match:
            current = match.group(1)
            found[current] = [match.group(2)]
        elif current:
            found[current].append(line.strip())
    return found
