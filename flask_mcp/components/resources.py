"""Resources and resource templates (MCP spec, "Server Features / Resources")."""

from __future__ import annotations

import json
import re
import typing as t
from dataclasses import dataclass
from urllib.parse import unquote

from .content import EmbeddedResource
from .handlers import Handler

_VARIABLE = re.compile(r"\{([A-Za-z0-9_]+)\}")


@dataclass
class Resource(Handler):
    """Contents at a fixed URI."""

    uri: str = ""
    mime_type: str | None = None

    def listing(self) -> dict[str, t.Any]:
        out = self.base_listing()
        out["uri"] = self.uri
        if self.mime_type:
            out["mimeType"] = self.mime_type
        return out

    def contents(self, uri: str, value: t.Any) -> list[dict[str, t.Any]]:
        """A handler's return value as ``resources/read`` contents."""
        if isinstance(value, EmbeddedResource):
            return [value.contents()]
        if isinstance(value, (bytes, bytearray)):
            item = EmbeddedResource(
                uri,
                blob=bytes(value),
                mime_type=self.mime_type or "application/octet-stream",
            )
        else:
            text = value if isinstance(value, str) else _json(value)
            item = EmbeddedResource(
                uri, text=text, mime_type=self.mime_type or "text/plain"
            )
        return [item.contents()]


@dataclass
class ResourceTemplate(Resource):
    """Contents at URIs matching an RFC 6570 level-1 template (``{var}``)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.variables = _VARIABLE.findall(self.uri)
        self._pattern = re.compile(_template_regex(self.uri))

    def match(self, uri: str) -> dict[str, str] | None:
        found = self._pattern.fullmatch(uri)
        if found is None:
            return None
        return {k: unquote(v) for k, v in found.groupdict().items()}

    def listing(self) -> dict[str, t.Any]:
        out = self.base_listing()
        out["uriTemplate"] = self.uri
        if self.mime_type:
            out["mimeType"] = self.mime_type
        return out


def _template_regex(template: str) -> str:
    parts: list[str] = []
    pos = 0
    for found in _VARIABLE.finditer(template):
        parts.append(re.escape(template[pos : found.start()]))
        parts.append(f"(?P<{found.group(1)}>[^/?#]+)")
        pos = found.end()
    parts.append(re.escape(template[pos:]))
    return "".join(parts)


def _json(value: t.Any) -> str:
    return json.dumps(value, default=str)
