"""Prompts (MCP spec, "Server Features / Prompts")."""

from __future__ import annotations

import typing as t
from collections import abc
from dataclasses import dataclass

from ..errors import FlaskMCPError
from .component import Component
from .component import common_fields
from .content import Icon
from .content import to_block
from .docstrings import param_descriptions
from .strings import StringParameter
from .strings import string_parameters


@dataclass(frozen=True)
class Message:
    """One prompt message; ``content`` is anything a tool could return."""

    role: str
    content: t.Any

    def to_dict(self) -> dict[str, t.Any]:
        return {"role": self.role, "content": to_block(self.content)}


class InvalidPromptArguments(FlaskMCPError, ValueError):
    """Arguments a prompt cannot be rendered with; the message lists why."""


@dataclass(frozen=True, kw_only=True)
class Prompt(Component):
    """A message template the user can pick; arguments arrive as strings."""

    parameters: tuple[StringParameter, ...] = ()
    #: Per-argument descriptions from the docstring.
    argument_descriptions: dict[str, str] | None = None

    @classmethod
    def from_function(
        cls,
        fn: t.Callable[..., t.Any],
        *,
        name: str | None = None,
        description: str | None = None,
        title: str | None = None,
        can_access: t.Any = None,
        meta: abc.Mapping[str, t.Any] | None = None,
        icons: t.Iterable[Icon | abc.Mapping[str, t.Any]] | None = None,
    ) -> Prompt:
        """A prompt rendered by ``fn``; its parameters are the arguments.

        :raises RegistrationError: for a bad name, a bad ``can_access`` or a
            parameter whose annotation a string cannot become.
        """
        fields = common_fields(
            fn,
            "prompt",
            name=name,
            description=description,
            title=title,
            can_access=can_access,
            meta=meta,
            icons=icons,
        )
        context = fields["context_param"]
        parameters = string_parameters(
            fn, {context} if context else set(), f"prompt {fields['name']!r}"
        )
        return cls(
            **fields,
            parameters=tuple(parameters),
            argument_descriptions=param_descriptions(fn.__doc__) or None,
        )

    def listing(self) -> dict[str, t.Any]:
        out = self.base_listing()
        out["arguments"] = [self._argument(p) for p in self.parameters]
        return out

    def _argument(self, parameter: StringParameter) -> dict[str, t.Any]:
        out: dict[str, t.Any] = {"name": parameter.name, "required": parameter.required}
        text = (self.argument_descriptions or {}).get(parameter.name)
        if parameter.expects:
            expects = f"Expected: {parameter.expects}."
            text = f"{text} {expects}" if text else expects
        if text:
            out["description"] = text
        return out

    def load(self, given: abc.Mapping[str, t.Any]) -> dict[str, t.Any]:
        """Keyword arguments for the function from the client's strings.

        :raises InvalidPromptArguments: listing every missing, unknown or
            unconvertible argument.
        """
        known = {p.name: p for p in self.parameters}
        problems = [
            f"missing argument {p.name!r}"
            for p in self.parameters
            if p.required and p.name not in given
        ]
        problems += [
            f"unknown argument {name!r}" for name in given if name not in known
        ]
        kwargs = {}
        for name, value in given.items():
            if name in known:
                try:
                    kwargs[name] = known[name].load(value)
                except ValueError as exc:
                    problems.append(str(exc))
        if problems:
            raise InvalidPromptArguments(", ".join(problems))
        return kwargs

    def choices(self, argument: str) -> tuple[str, ...]:
        """The allowed values of an argument (Enum and Literal parameters)."""
        return next((p.choices for p in self.parameters if p.name == argument), ())

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
