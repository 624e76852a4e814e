"""Prompts (MCP spec, "Server Features / Prompts")."""

from __future__ import annotations

import inspect
import typing as t
from dataclasses import dataclass

from .content import to_block
from .handlers import Handler


@dataclass(frozen=True)
class Message:
    """One prompt message; ``content`` is anything a tool could return."""

    role: str
    content: t.Any

    def to_dict(self) -> dict[str, t.Any]:
        return {"role": self.role, "content": to_block(self.content)}


@dataclass
class Prompt(Handler):
    """A message template the user can pick; arguments are strings."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.arguments: list[dict[str, t.Any]] = [
            {"name": name, "required": param.default is inspect.Parameter.empty}
            for name, param in inspect.signature(self.fn).parameters.items()
            if name != self.context_param
        ]

    def listing(self) -> dict[str, t.Any]:
        out = self.base_listing()
        out["arguments"] = self.arguments
        return out

    def missing(self, given: t.Mapping[str, t.Any]) -> list[str]:
        return [
            a["name"]
            for a in self.arguments
            if a["required"] and a["name"] not in given
        ]

    def unknown(self, given: t.Mapping[str, t.Any]) -> list[str]:
        known = {a["name"] for a in self.arguments}
        return [name for name in given if name not in known]

    @staticmethod
    def messages(value: t.Any) -> list[dict[str, t.Any]]:
        """A str is one user message; a list may mix str, Message and dicts."""
        items = value if isinstance(value, (list, tuple)) else [value]
        out = []
        for item in items:
            if isinstance(item, Message):
                out.append(item.to_dict())
            elif isinstance(item, dict) and "role" in item:
                out.append(item)
            else:
                out.append(Message("user", item).to_dict())
        return out
