"""Who a request is, and which way in it came: :class:`Authenticated`.

A server may let people in several ways (OAuth, API keys, managed keys).
Each way in is a *source*, and a principal is a subject *of a source*: the
subject ``alice`` of an API key table and the subject ``alice`` of an
identity provider are two principals, which never share an MCP session
(:func:`principal_of`).
"""

from __future__ import annotations

import hashlib
import json
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from werkzeug.wrappers import Request

__all__ = [
    "Authenticated",
    "HasSource",
    "Identifies",
    "identify",
    "principal_of",
    "source_of",
]

#: The source of an ``authenticate`` function that names none.
DEFAULT_SOURCE = "authenticate"

#: Fields that name whom an auth session belongs to, in order of preference.
_IDENTITY_FIELDS = (
    "principal",
    "subject",
    "sub",
    "id",
    "user_id",
    "client_id",
    "email",
)


@dataclass(frozen=True)
class Authenticated:
    """An auth session and the way in that produced it."""

    #: What ``authenticate`` returned: what tools see as ``ctx.session``.
    session: t.Any
    #: The way in (``"oauth"``, ``"api-key:X-API-Key"``, ``"managed-key"``...).
    source: str

    @property
    def principal(self) -> str | None:
        """The hashed principal: :func:`principal_of` the session and source."""
        return principal_of(self.session, self.source)


@t.runtime_checkable
class HasSource(t.Protocol):
    """An ``authenticate`` function that names its way in."""

    #: A short name for the way in, unique among the ways into one server.
    source: str


@t.runtime_checkable
class Identifies(t.Protocol):
    """An ``authenticate`` function that also says which way in a session
    came (several ways in, :func:`~flask_mcp.auth.any_of`)."""

    def identify(self, request: Request) -> Authenticated | None: ...


def source_of(authenticate: object, default: str = DEFAULT_SOURCE) -> str:
    """The way in ``authenticate`` names (:class:`HasSource`), else ``default``."""
    if isinstance(authenticate, HasSource) and isinstance(authenticate.source, str):
        return authenticate.source or default
    return default


def identify(authenticate: t.Callable[[Request], t.Any], request: Request) -> t.Any:
    """Run ``authenticate``: an :class:`Authenticated`, or what a plain
    function returns (a session, ``None`` or an awaitable of them), which
    the caller pairs with :func:`source_of`."""
    if isinstance(authenticate, Identifies):
        return authenticate.identify(request)
    return authenticate(request)


def principal_of(session: t.Any, source: str = DEFAULT_SOURCE) -> str | None:
    """A stable, hashed name of whom ``session`` belongs to, through which
    way in, for binding MCP sessions and multi-round state to their caller.

    The identity is the first field of ``principal``, ``subject``, ``sub``,
    ``id``, ``user_id``, ``client_id``, ``email`` the session has (key or
    attribute), else the whole session as JSON.
    """
    if session is None:
        return None
    for name in _IDENTITY_FIELDS:
        value = (
            session.get(name)
            if isinstance(session, Mapping)
            else getattr(session, name, None)
        )
        if value is not None:
            identity = f"{name}={value}"
            break
    else:
        identity = json.dumps(session, sort_keys=True, default=repr)
    return hashlib.sha256(f"{source}\0{identity}".encode()).hexdigest()
