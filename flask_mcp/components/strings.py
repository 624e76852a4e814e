"""Typed parameters whose values arrive as strings.

Prompt arguments and resource-template variables are strings on the wire
(MCP "Prompts", RFC 6570). A parameter annotated ``int``, ``float``,
``bool``, an ``Enum`` or a ``Literal`` gets the converted value; the allowed
values of the last two also serve as completions. Any other annotation is
refused when the function is registered, not when a client calls it.
"""

from __future__ import annotations

import enum
import inspect
import types
import typing as t
from dataclasses import dataclass

from .component import RegistrationError

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class StringParameter:
    """How one string argument becomes the value the function expects."""

    name: str
    required: bool
    #: Converts the client's string; ``None`` passes it through.
    convert: t.Callable[[str], t.Any] | None = None
    #: What a client should send, for descriptions (``"an integer"``).
    expects: str | None = None
    #: The allowed values, for completion (Enum and Literal parameters).
    choices: tuple[str, ...] = ()

    def load(self, value: str) -> t.Any:
        """The converted value; :exc:`ValueError` names the parameter."""
        if self.convert is None:
            return value
        try:
            return self.convert(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{self.name}: {exc}") from None


def string_parameters(
    fn: t.Callable[..., t.Any], skip: t.Collection[str], where: str
) -> list[StringParameter]:
    """The string parameters of ``fn`` (all but ``skip``), in order."""
    try:
        hints = t.get_type_hints(fn)
    except Exception:  # names imported for type checkers only: strings then
        hints = {}
    out = []
    for param in inspect.signature(fn).parameters.values():
        if param.name in skip:
            continue
        if param.kind in (
            param.VAR_POSITIONAL,
            param.VAR_KEYWORD,
            param.POSITIONAL_ONLY,
        ):
            raise RegistrationError(
                f"{where}: parameter {param} cannot receive a named string argument"
            )
        hint = hints.get(param.name, param.annotation)
        out.append(_parameter(param, hint, where))
    return out


def _parameter(param: inspect.Parameter, hint: t.Any, where: str) -> StringParameter:
    required = param.default is inspect.Parameter.empty
    base = _without_none(hint)
    name = param.name
    if base in (inspect.Parameter.empty, str, t.Any):
        return StringParameter(name, required)
    if base is bool:
        return StringParameter(
            name, required, _to_bool, "true or false", ("true", "false")
        )
    if base in (int, float):
        return StringParameter(name, required, base, f"a number ({base.__name__})")
    if isinstance(base, type) and issubclass(base, enum.Enum):
        choices = tuple(str(member.value) for member in base)
        return StringParameter(
            name, required, _to_enum(base), f"one of {', '.join(choices)}", choices
        )
    if t.get_origin(base) is t.Literal:
        values = t.get_args(base)
        if all(isinstance(v, str) for v in values):
            choices = tuple(values)
            return StringParameter(
                name,
                required,
                _to_choice(choices),
                f"one of {', '.join(choices)}",
                choices,
            )
    raise RegistrationError(
        f"{where}: parameter {name!r} is annotated {hint!r}; string arguments can"
        " become str, int, float, bool, an Enum or a Literal of strings"
    )


def _without_none(hint: t.Any) -> t.Any:
    """``X | None`` and ``Optional[X]`` as ``X``."""
    if t.get_origin(hint) in (t.Union, types.UnionType):
        members = [m for m in t.get_args(hint) if m is not type(None)]
        if len(members) == 1:
            return members[0]
    return hint


def _to_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{value!r} is not true or false")


def _to_enum(cls: type[enum.Enum]) -> t.Callable[[str], enum.Enum]:
    by_text = {str(member.value): member for member in cls}
    by_text.update({member.name: member for member in cls})

    def convert(value: str) -> enum.Enum:
        try:
            return by_text[value]
        except KeyError:
            allowed = ", ".join(str(member.value) for member in cls)
            raise ValueError(f"{value!r} is not one of {allowed}") from None

    return convert


def _to_choice(choices: tuple[str, ...]) -> t.Callable[[str], str]:
    def convert(value: str) -> str:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return value

    return convert
