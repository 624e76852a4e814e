"""Everything a server offers, by kind and name, with cursor pagination."""

from __future__ import annotations

import base64
import binascii
import json
import typing as t

from .handlers import Handler
from .prompts import Prompt
from .resources import Resource
from .resources import ResourceTemplate
from .tools import Tool

H = t.TypeVar("H", bound=Handler)

#: ``fn(value, context_arguments) -> list of suggestions``
Completer = t.Callable[[str, dict[str, str]], t.Iterable[str]]


class InvalidCursor(ValueError):
    """A cursor this server did not hand out for this list."""


class Registry:
    """Tools, resources, templates, prompts and completers of one server."""

    def __init__(self) -> None:
        self.tools: dict[str, Tool] = {}
        self.resources: dict[str, Resource] = {}
        self.templates: dict[str, ResourceTemplate] = {}
        self.prompts: dict[str, Prompt] = {}
        self.completers: dict[tuple[str, str, str], Completer] = {}

    def find_template(self, uri: str) -> tuple[ResourceTemplate, dict[str, str]] | None:
        for template in self.templates.values():
            variables = template.match(uri)
            if variables is not None:
                return template, variables
        return None


def paginate(
    kind: str, items: list[H], cursor: object, page_size: int
) -> tuple[list[H], str | None]:
    """One page of ``items`` and the opaque cursor of the next page."""
    start = 0 if cursor is None else _decode_cursor(kind, cursor)
    page = items[start : start + page_size]
    end = start + page_size
    return page, (_encode_cursor(kind, end) if end < len(items) else None)


def _encode_cursor(kind: str, offset: int) -> str:
    raw = json.dumps({"k": kind, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(kind: str, cursor: object) -> int:
    if not isinstance(cursor, str):
        raise InvalidCursor("cursor must be a string")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("cursor is not one this server issued") from exc
    if not isinstance(data, dict) or data.get("k") != kind:
        raise InvalidCursor("cursor is not one this server issued")
    offset = data.get("o")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidCursor("cursor is not one this server issued")
    return offset
