"""Everything a server offers, by kind and name, with cursor pagination."""

from __future__ import annotations

import base64
import binascii
import json
import typing as t

from ..errors import FlaskMCPError
from .component import Component
from .component import RegistrationError
from .prompts import Prompt
from .resources import Resource
from .resources import ResourceTemplate
from .tools import Tool

C = t.TypeVar("C", bound=Component)

#: ``fn(value, context_arguments) -> suggestions``; may be ``async def``.
Completer = t.Callable[[str, dict[str, str]], t.Any]

#: The lists a registry keeps, as MCP names them in ``list_changed``.
Kind = t.Literal["tools", "resources", "prompts"]


class InvalidCursor(FlaskMCPError, ValueError):
    """A cursor this server did not hand out for this list."""


class Registry:
    """Tools, resources, templates, prompts and completers of one server.

    The tables are read by the protocol layer on every request; they change
    through :meth:`add` and :meth:`remove`, which refuse silent replacement.
    """

    def __init__(self) -> None:
        self.tools: dict[str, Tool] = {}
        self.resources: dict[str, Resource] = {}
        self.templates: dict[str, ResourceTemplate] = {}
        self.prompts: dict[str, Prompt] = {}
        self.completers: dict[tuple[str, str, str], Completer] = {}

    def add(self, component: C, *, replace: bool = False) -> Kind:
        """Register ``component``; the kind of list that changed.

        :raises RegistrationError: when the name (or URI) is taken and
            ``replace`` is false.
        """
        table, key, label = self._slot(component)
        if key in table and not replace:
            raise RegistrationError(
                f"a {label} {key!r} is already registered"
                f" ({_where(table[key])}); pass replace=True to replace it"
            )
        table[key] = component
        return (
            "resources"
            if isinstance(component, Resource)
            else t.cast(Kind, label + "s")
        )

    def remove(self, kind: Kind, key: str) -> bool:
        """Forget a tool, prompt, resource or template; ``True`` if it existed."""
        tables: dict[str, list[dict[str, t.Any]]] = {
            "tools": [self.tools],
            "prompts": [self.prompts],
            "resources": [self.resources, self.templates],
        }
        return any(table.pop(key, None) is not None for table in tables[kind])

    def add_completer(
        self, ref_type: str, ref: str, argument: str, completer: Completer
    ) -> None:
        if not callable(completer):
            raise RegistrationError(
                f"a completion handler must be callable, not {completer!r}"
            )
        key = (ref_type, ref, argument)
        if key in self.completers:
            raise RegistrationError(
                f"completion for {ref!r} argument {argument!r} is already registered"
            )
        self.completers[key] = completer

    def find_template(self, uri: str) -> tuple[ResourceTemplate, dict[str, str]] | None:
        for template in self.templates.values():
            variables = template.match(uri)
            if variables is not None:
                return template, variables
        return None

    def _slot(self, component: Component) -> tuple[dict[str, t.Any], str, str]:
        if isinstance(component, Tool):
            return self.tools, component.name, "tool"
        if isinstance(component, Prompt):
            return self.prompts, component.name, "prompt"
        if isinstance(component, ResourceTemplate):
            return self.templates, component.uri, "resource template"
        if isinstance(component, Resource):
            return self.resources, component.uri, "resource"
        raise TypeError(f"not a component: {component!r}")


def _where(component: Component) -> str:
    code = getattr(component.fn, "__code__", None)
    name = getattr(component.fn, "__qualname__", repr(component.fn))
    return f"{name} at {code.co_filename}:{code.co_firstlineno}" if code else name


def paginate(
    kind: str, items: list[C], cursor: object, page_size: int
) -> tuple[list[C], str | None]:
    """One page of ``items`` and the opaque cursor of the next page."""
    start = 0 if cursor is None else _decode_cursor(kind, cursor)
    page = items[start : start + page_size]
    end = start + page_size
    return page, (_encode_cursor(kind, end) if end < len(items) else None)


def _encode_cursor(kind: str, offset: int) -> str:
    raw = json.dumps({"k": kind, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(kind: str, cursor: object) -> int:
    if not isinstance(cursor, str) or len(cursor) > 200:
        raise InvalidCursor("cursor is not one this server issued")
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
