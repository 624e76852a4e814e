"""What tools, resources and prompts share: a described Python function.

A handler may ask for the request's context through any parameter annotated
with a :class:`RequestContext` subclass (the protocol layer's ``Context``);
that parameter is filled in by the server and hidden from the client.
Components are built whole by their ``from_function`` constructors and are
immutable afterwards; mistakes surface there, at registration, with a
message that names the function.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing as t
from collections import abc
from dataclasses import dataclass

from .._check_policy import Check
from .._check_policy import is_check_factory
from .._check_policy import run_check
from .._sync import run_sync
from ..errors import FlaskMCPError
from .content import Icon

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class RequestContext:
    """Base of the per-request object handlers receive by annotation.

    Components only need to recognise it; the protocol layer's
    :class:`~flask_mcp.Context` is the implementation.
    """


class RegistrationError(FlaskMCPError, ValueError):
    """A component cannot be registered as declared."""


def validate_name(name: object, kind: str) -> str:
    """MCP 2025-11-25 names: 1-64 of ``A-Z a-z 0-9 _ . -``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise RegistrationError(
            f"{kind} name {name!r} must match [A-Za-z0-9_.-]{{1,64}}"
        )
    return name


def describe(fn: t.Callable[..., t.Any]) -> str:
    """The docstring's first paragraph: the rest is for humans reading code."""
    doc = inspect.getdoc(fn) or ""
    return doc.split("\n\n", 1)[0].strip()


def context_parameter(fn: t.Callable[..., t.Any]) -> str | None:
    """The name of the parameter annotated with a :class:`RequestContext`."""
    try:
        hints = t.get_type_hints(fn)
    except Exception:  # unresolvable forward references: fall back to raw names
        hints = {}
    for name, param in inspect.signature(fn).parameters.items():
        annotation = hints.get(name, param.annotation)
        if annotation == "Context" or (
            isinstance(annotation, type) and issubclass(annotation, RequestContext)
        ):
            return name
    return None


def check_function(fn: object, kind: str) -> t.Callable[..., t.Any]:
    """``fn`` if it can be a handler; a clear error for what cannot."""
    if not callable(fn):
        raise RegistrationError(f"a {kind} must be a function, not {fn!r}")
    if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):
        raise RegistrationError(
            f"{kind} {_qualname(fn)} is a generator; return a value instead"
        )
    return fn


def check_access(check: object, where: str) -> Check | None:
    """Refuse a ``can_access`` value that could never answer correctly.

    Catches the usual slips: a value that is not callable, and a check
    factory passed without calling it (``require_role`` instead of
    ``require_role("admin")``), which would return a truthy object.
    """
    if check is None:
        return None
    if not callable(check):
        raise RegistrationError(
            f"can_access of {where} must be a callable taking the auth session,"
            f" not {check!r}"
        )
    if is_check_factory(check):
        raise RegistrationError(
            f"can_access of {where} is the factory {_qualname(check)};"
            f" call it: can_access={_qualname(check)}(...)"
        )
    return t.cast(Check, check)


def check_meta(meta: object, where: str) -> dict[str, t.Any] | None:
    if meta is None:
        return None
    if not isinstance(meta, abc.Mapping):
        raise RegistrationError(f"meta of {where} must be a mapping, not {meta!r}")
    return dict(meta)


def icon_tuple(
    icons: t.Iterable[Icon | abc.Mapping[str, t.Any]] | None,
) -> tuple[Icon, ...]:
    """``icons=`` as :class:`Icon` objects (mappings use the spec's keys)."""
    if icons is None:
        return ()
    return tuple(i if isinstance(i, Icon) else Icon.from_dict(i) for i in icons)


@dataclass(frozen=True, kw_only=True)
class Component:
    """A registered function and the facts every component type shares."""

    name: str
    fn: t.Callable[..., t.Any]
    description: str = ""
    title: str | None = None
    can_access: Check | None = None
    meta: dict[str, t.Any] | None = None
    icons: tuple[Icon, ...] = ()
    #: The parameter that receives the request context, if any.
    context_param: str | None = None

    @property
    def wants_context(self) -> bool:
        return self.context_param is not None

    def allows(self, auth: t.Any) -> bool:
        """Whether ``can_access`` lets ``auth`` use this component, by the one
        policy of :func:`~flask_mcp._check_policy.run_check`: a broken check
        hides its component, it does not break every list."""
        if self.can_access is None:
            return True
        return run_check(self.can_access, auth, guarding=f"{self.kind} {self.name!r}")

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()

    def invoke(self, kwargs: dict[str, t.Any], ctx: RequestContext | None) -> t.Any:
        """Call the function (awaited if it is ``async def``)."""
        if self.context_param is not None:
            kwargs = {**kwargs, self.context_param: ctx}
        return run_sync(self.fn(**kwargs))

    def base_listing(self) -> dict[str, t.Any]:
        out: dict[str, t.Any] = {"name": self.name}
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        if self.icons:
            out["icons"] = [icon.to_dict() for icon in self.icons]
        if self.meta:
            out["_meta"] = self.meta
        return out

    def replace(self: C, **changes: t.Any) -> C:
        """A copy with ``changes`` (components are immutable)."""
        return dataclasses.replace(self, **changes)


C = t.TypeVar("C", bound=Component)


def common_fields(
    fn: t.Callable[..., t.Any],
    kind: str,
    *,
    name: str | None,
    description: str | None,
    title: str | None,
    can_access: object,
    meta: object,
    icons: t.Iterable[Icon | abc.Mapping[str, t.Any]] | None,
    validate: bool = True,
) -> dict[str, t.Any]:
    """The :class:`Component` fields every ``from_function`` fills the same way."""
    fn = check_function(fn, kind)
    chosen = name if name is not None else fn.__name__
    if validate:
        validate_name(chosen, kind)
    where = f"{kind} {chosen!r}"
    if title is not None and not isinstance(title, str):
        raise RegistrationError(f"title of {where} must be a string")
    return {
        "name": chosen,
        "fn": fn,
        "description": description if description is not None else describe(fn),
        "title": title,
        "can_access": check_access(can_access, where),
        "meta": check_meta(meta, where),
        "icons": icon_tuple(icons),
        "context_param": context_parameter(fn),
    }


def _qualname(fn: object) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", fn))
