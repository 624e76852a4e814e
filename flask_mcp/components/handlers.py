"""What tools, resources and prompts share: a described Python function.

A handler may ask for the request's :class:`~flask_mcp.protocol.context.Context`
through any parameter annotated with it; that parameter is filled in by the
server and hidden from the client.
"""

from __future__ import annotations

import inspect
import re
import typing as t
from dataclasses import dataclass

from ..protocol.context import Context

#: ``can_access`` callables take the auth session; components do not know more.
AccessCheck = t.Callable[[t.Any], bool]

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def validate_name(name: str, kind: str) -> str:
    """MCP 2025-11-25 names: 1-64 of ``A-Z a-z 0-9 _ . -``."""
    if not _NAME.match(name):
        raise ValueError(f"{kind} name {name!r} must match [A-Za-z0-9_.-]{{1,64}}")
    return name


def context_parameter(fn: t.Callable[..., t.Any]) -> str | None:
    """The name of the parameter annotated with ``Context``, if any."""
    try:
        hints = t.get_type_hints(fn)
    except Exception:  # unresolvable forward references: fall back to raw names
        hints = {}
    for name, param in inspect.signature(fn).parameters.items():
        annotation = hints.get(name, param.annotation)
        if annotation is Context or annotation == "Context":
            return name
    return None


def describe(fn: t.Callable[..., t.Any]) -> str:
    """The docstring's first paragraph: the rest is for humans reading code."""
    doc = inspect.getdoc(fn) or ""
    return doc.split("\n\n", 1)[0].strip()


@dataclass
class Handler:
    """A registered function and the facts every component type shares."""

    name: str
    fn: t.Callable[..., t.Any]
    description: str
    title: str | None = None
    can_access: AccessCheck | None = None
    meta: dict[str, t.Any] | None = None
    #: Listed even when ``can_access`` fails; calls then get HTTP 403 with the
    #: scopes to ask for (``insufficient_scope`` step-up authorization).
    step_up: bool = False

    def __post_init__(self) -> None:
        self.context_param = context_parameter(self.fn)

    @property
    def wants_context(self) -> bool:
        return self.context_param is not None

    def invoke(self, kwargs: dict[str, t.Any], ctx: Context | None) -> t.Any:
        if self.context_param is not None:
            kwargs = {**kwargs, self.context_param: ctx}
        return self.fn(**kwargs)

    def base_listing(self) -> dict[str, t.Any]:
        out: dict[str, t.Any] = {"name": self.name}
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        if self.meta:
            out["_meta"] = self.meta
        return out
