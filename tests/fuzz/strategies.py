"""Hypothesis strategies for hostile HTTP input: JSON, text, headers, forms.

Everything here is data; what is sent where lives in the test modules.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass

from hypothesis import strategies as st

#: Strings that broke parsers elsewhere: NUL, BOM, bidi overrides, non-ASCII
#: digits (``str.isdigit`` accepts them, ``int`` not always), surrogates...
ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "\ufeff",
    "\u202etxt.exe",
    "\ud800",
    "🙂" * 3,
    "١٢٣",
    "²",
    "৪২",
    "𝟙𝟚",
    "Ⅻ",
    "NaN",
    "-0",
    "1e999",
    "9" * 5000,
    "../../etc/passwd",
    "%2e%2e/%2E%2E",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "' OR 1=1 --",
    "\r\nX-Injected: 1",
    "a" * 70_000,
]

#: Any code point, surrogates and controls included.
any_char = st.characters(codec=None, categories=None)
odd_text = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.text(any_char, max_size=40),
    st.text(st.characters(codec="ascii"), max_size=20),
)


#: Text a form or query string can carry (UTF-8: no lone surrogates).
form_text = odd_text.filter(lambda value: not _has_surrogates(value))

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 2**31, 2**63, 10**30, 1e308, -0.0]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, odd_text)


def _has_surrogates(value: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def _sendable(value: str) -> bool:
    """Header values must be latin-1 text without line breaks to be sent."""
    return all(0x20 <= ord(c) <= 0xFF for c in value)


header_text = st.one_of(
    st.sampled_from([value for value in ODD_STRINGS if _sendable(value)]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60),
)


@dataclass(frozen=True)
class Deep:
    """``leaf`` inside ``depth`` lists or objects: written as text by
    :func:`encode`, since ``json.dumps`` itself recurses."""

    depth: int
    leaf: t.Any
    kind: str

    def text(self, ascii_only: bool) -> str:
        leaf = encode(self.leaf, ascii_only).decode("utf-8", "surrogatepass")
        if self.kind == "list":
            return "[" * self.depth + leaf + "]" * self.depth
        return '{"a":' * self.depth + leaf + "}" * self.depth


def encode(value: t.Any, ascii_only: bool = True) -> bytes:
    """JSON text as a lax encoder writes it: NaN, Infinity and lone
    surrogates allowed, :class:`Deep` values spelled out."""
    deep: list[Deep] = []

    def placeholder(item: t.Any) -> str:
        if isinstance(item, Deep):
            deep.append(item)
            return f"\x00deep{len(deep) - 1}\x00"
        raise TypeError(type(item).__name__)

    text = json.dumps(value, ensure_ascii=ascii_only, default=placeholder)
    for index, item in enumerate(deep):
        token = json.dumps(f"\x00deep{index}\x00", ensure_ascii=ascii_only)
        text = text.replace(token, item.text(ascii_only), 1)
    return text.encode("utf-8", "surrogatepass")


#: Any JSON value of moderate size...
shallow_json = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(odd_text, children, max_size=4),
    ),
    max_leaves=12,
)
#: ...or one nested very deep (parsers recurse).
deep_json = st.builds(
    Deep,
    depth=st.integers(min_value=1, max_value=3000),
    leaf=scalars,
    kind=st.sampled_from(["list", "dict"]),
)
any_json = st.one_of(shallow_json, shallow_json, deep_json)


def paths(value: t.Any, prefix: tuple[t.Any, ...] = ()) -> list[tuple[t.Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


_DELETE = object()


def replaced(value: t.Any, path: tuple[t.Any, ...], new: t.Any) -> t.Any:
    """A copy of ``value`` with the item at ``path`` set to ``new`` (or deleted)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if not rest and new is _DELETE:
            copy.pop(head, None)
        else:
            copy[head] = replaced(value[head], rest, new)
        return copy
    copy_list = list(value)
    if not rest and new is _DELETE:
        del copy_list[head]
    else:
        copy_list[head] = replaced(value[head], rest, new)
    return copy_list


@st.composite
def mutated(draw: st.DrawFn, template: t.Any) -> t.Any:
    """``template`` with one or two of its items replaced by any JSON value,
    by a value of another type, or deleted."""
    value = template
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        where = paths(value)
        if not where:
            break
        path = draw(st.sampled_from(where))
        new = draw(st.one_of(any_json, st.just(_DELETE)))
        value = replaced(value, path, new)
    return value
