"""Tools (MCP spec, "Server Features / Tools")."""

from __future__ import annotations

import json
import typing as t
from collections import abc
from dataclasses import dataclass
from dataclasses import field

from ..errors import FlaskMCPError
from .arguments import ArgumentModel
from .arguments import HintArguments
from .arguments import JsonSchemaArguments
from .arguments import MarshmallowArguments
from .arguments import dump_structured
from .arguments import output_schema
from .component import Component
from .component import RegistrationError
from .component import common_fields
from .content import Icon
from .content import ToolResult
from .content import is_content
from .content import to_block
from .content import to_blocks
from .headers import header_parameters
from .limit_strings import check_rate_limit

ANNOTATION_KEYS = {
    "title": "title",
    "read_only": "readOnlyHint",
    "destructive": "destructiveHint",
    "idempotent": "idempotentHint",
    "open_world": "openWorldHint",
}


class ToolError(FlaskMCPError):
    """Raise in a tool to report a failure whose message the model may read."""


@dataclass(frozen=True, kw_only=True)
class Tool(Component):
    """A function the model can call."""

    arguments: ArgumentModel
    output_schema: dict[str, t.Any] | None = None
    annotations: dict[str, t.Any] = field(default_factory=dict)
    #: Listed even when ``can_access`` fails; calls then get HTTP 403 with the
    #: scopes to ask for (``insufficient_scope`` step-up authorization).
    step_up: bool = False
    #: Arguments mirrored into ``Mcp-Param-*`` headers: property path -> name.
    header_params: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: Calls allowed per caller, in Flask-Limiter's notation (``"10/minute"``);
    #: on top of ``MCP_RATE_LIMIT``.
    rate_limit: str | None = None

    @classmethod
    def from_function(
        cls,
        fn: t.Callable[..., t.Any],
        *,
        name: str | None = None,
        description: str | None = None,
        title: str | None = None,
        schema: t.Any = None,
        input_schema: dict[str, t.Any] | None = None,
        output_schema: dict[str, t.Any] | None = None,
        can_access: t.Any = None,
        step_up: bool = False,
        read_only: bool | None = None,
        destructive: bool | None = None,
        idempotent: bool | None = None,
        open_world: bool | None = None,
        meta: abc.Mapping[str, t.Any] | None = None,
        icons: t.Iterable[Icon | abc.Mapping[str, t.Any]] | None = None,
        headers: abc.Mapping[str, str] | None = None,
        rate_limit: str | None = None,
    ) -> Tool:
        """A tool from ``fn``, its arguments declared in one of three ways.

        Arguments come from the type hints, or from a marshmallow ``schema``,
        or from a JSON Schema ``input_schema`` published exactly as given.
        ``headers`` maps argument names to the ``Mcp-Param-*`` header names
        that modern clients mirror them into (``x-mcp-header``).
        ``rate_limit`` (``"10/minute"``) limits each caller's calls.

        :raises RegistrationError: for a bad name, a ``can_access`` that is
            not a check, or both ``schema`` and ``input_schema``.
        :raises TypeError: for a parameter the schema cannot describe.
        """
        fields = common_fields(
            fn,
            "tool",
            name=name,
            description=description,
            title=title,
            can_access=can_access,
            meta=meta,
            icons=icons,
        )
        if schema is not None and input_schema is not None:
            raise RegistrationError(
                f"tool {fields['name']!r}: give schema= or input_schema=, not both"
            )
        if step_up and fields["can_access"] is None:
            raise RegistrationError(
                f"tool {fields['name']!r}: step_up=True needs a can_access check"
            )
        arguments: ArgumentModel
        if input_schema is not None:
            arguments = JsonSchemaArguments(input_schema)
        elif schema is not None:
            arguments = MarshmallowArguments(schema)
        else:
            context = fields["context_param"]
            arguments = HintArguments(fn, exclude={context} if context else set())
        where = f"tool {fields['name']!r}"
        return cls(
            **fields,
            arguments=arguments,
            output_schema=output_schema or output_schema_of(fn),
            step_up=step_up,
            header_params=_header_params(arguments.json_schema, headers, where),
            rate_limit=check_rate_limit(rate_limit, where),
            annotations=tool_annotations(
                title=title,
                read_only=read_only,
                destructive=destructive,
                idempotent=idempotent,
                open_world=open_world,
            ),
        )

    def listing(self) -> dict[str, t.Any]:
        out = self.base_listing()
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
        structured = dump_structured(value) if self._is_data(value) else None
        if structured is not None:
            return _result(
                [{"type": "text", "text": json.dumps(structured)}], structured
            )
        return _result(to_blocks(value), None)

    def _is_data(self, value: t.Any) -> bool:
        """Whether a return value is structured output: anything but content,
        and any mapping when the tool declares an output schema (a client then
        requires ``structuredContent``, even for a dict shaped like a block)."""
        if hasattr(value, "to_block"):
            return False
        if self.output_schema is not None and isinstance(value, abc.Mapping):
            return True
        return not is_content(value)


def _header_params(
    schema: dict[str, t.Any], headers: abc.Mapping[str, str] | None, where: str
) -> dict[tuple[str, ...], str]:
    """Mark ``headers`` in the schema, then read and check every annotation."""
    properties = schema.get("properties") or {}
    for argument, header in (headers or {}).items():
        if argument not in properties:
            raise RegistrationError(
                f"{where}: headers names unknown argument {argument!r}"
            )
        # A copy: property schemas may be shared (cached translations).
        properties[argument] = {**properties[argument], "x-mcp-header": header}
    try:
        return header_parameters(schema)
    except ValueError as exc:
        raise RegistrationError(f"{where}: {exc}") from None


def output_schema_of(fn: t.Callable[..., t.Any]) -> dict[str, t.Any] | None:
    """The ``outputSchema`` a return annotation implies, if it is structured."""
    try:
        annotation = t.get_type_hints(fn).get("return")
        return output_schema(annotation) if annotation is not None else None
    except (NameError, TypeError):  # unresolvable or not representable
        return None


def error_result(message: str) -> dict[str, t.Any]:
    """A tool error the model can read (``isError: true``)."""
    return _result([{"type": "text", "text": message}], None, True)


def _result(
    content: list[dict[str, t.Any]],
    structured: t.Any,
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
