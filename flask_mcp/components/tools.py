"""Tools (MCP spec, "Server Features / Tools")."""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from dataclasses import field

from .arguments import ArgumentModel
from .arguments import dump_structured
from .content import ToolResult
from .content import is_content
from .content import to_block
from .content import to_blocks
from .handlers import Handler

ANNOTATION_KEYS = {
    "title": "title",
    "read_only": "readOnlyHint",
    "destructive": "destructiveHint",
    "idempotent": "idempotentHint",
    "open_world": "openWorldHint",
}


@dataclass
class Tool(Handler):
    """A function the model can call."""

    arguments: ArgumentModel | None = None
    output_schema: dict[str, t.Any] | None = None
    annotations: dict[str, t.Any] = field(default_factory=dict)
    required_scopes: tuple[str, ...] = ()

    def listing(self) -> dict[str, t.Any]:
        out = self.base_listing()
        assert self.arguments is not None
        out["inputSchema"] = self.arguments.json_schema
        if self.output_schema is not None:
            out["outputSchema"] = self.output_schema
        if self.annotations:
            out["annotations"] = self.annotations
        return out

    def to_result(self, value: t.Any) -> dict[str, t.Any]:
        """Map a return value onto ``CallToolResult``."""
        if isinstance(value, ToolResult):
            return _result(
                [to_block(v) for v in value.content], value.structured, value.is_error
            )
        structured = None if is_content(value) else dump_structured(value)
        if structured is not None:
            return _result(
                [{"type": "text", "text": json.dumps(structured)}], structured
            )
        return _result(to_blocks(value), None)


def error_result(message: str) -> dict[str, t.Any]:
    """A tool error the model can read (``isError: true``)."""
    return _result([{"type": "text", "text": message}], None, True)


def _result(
    content: list[dict[str, t.Any]],
    structured: dict[str, t.Any] | None,
    is_error: bool = False,
) -> dict[str, t.Any]:
    out: dict[str, t.Any] = {"content": content}
    if structured is not None:
        out["structuredContent"] = structured
    if is_error:
        out["isError"] = True
    return out


def tool_annotations(**hints: t.Any) -> dict[str, t.Any]:
    """``read_only=True`` and friends to the spec's ``readOnlyHint`` names."""
    return {ANNOTATION_KEYS[k]: v for k, v in hints.items() if v is not None}
