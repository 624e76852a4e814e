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
import logging
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .errors import Unauthorized

if t.TYPE_CHECKING:
    from werkzeug.wrappers import Request


logger = logging.getLogger(__name__)

#: The source of an ``authenticate`` function that names none.
DEFAULT_SOURCE = "authenticate"

#: Fields that name whom an auth session belongs to, in order of preference.
IDENTITY_FIELDS = (
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


def sources_of(authenticate: object, default: str = DEFAULT_SOURCE) -> tuple[str, ...]:
    """Every way in of ``authenticate``: those of several ways in
    (:func:`~flask_mcp.auth.any_of`), else the one :func:`source_of` names."""
    sources = getattr(authenticate, "sources", None)
    if isinstance(sources, tuple) and all(isinstance(s, str) for s in sources):
        return sources
    return (source_of(authenticate, default),)


def principals_of_subject(subject: str, sources: t.Iterable[str]) -> set[str]:
    """The principals (:func:`principal_of`) a session of ``subject`` may be
    bound to, whichever identity field and way in named it: for operators,
    who know a user's name, never a hash."""
    return {
        t.cast(str, principal_of({name: subject}, source))
        for name in IDENTITY_FIELDS
        for source in sources
    }


def identify(authenticate: t.Callable[[Request], t.Any], request: Request) -> t.Any:
    """Run ``authenticate``: an :class:`Authenticated`, or what a plain
    function returns (a session, ``None`` or an awaitable of them), which
    the caller pairs with :func:`source_of`."""
    if isinstance(authenticate, Identifies):
        return authenticate.identify(request)
    return authenticate(request)


def session_of(found: t.Any, authenticate: object) -> t.Any:
    """What ``authenticate`` returned, read as a session (``None``: none).

    Answers meant as refusals are truthy, and taken for sessions they would
    let every caller in, so they are read as meant: ``False`` is no session,
    as ``None`` is; a response returned instead of raised (FastMCP code
    *throws* one) is raised as :func:`flask.abort` raises it; a view's
    ``(body, status)`` tuple refuses with 401, and the log says what to
    write instead.

    :raises HTTPException: for a returned response.
    :raises Unauthorized: for a view's return value.
    """
    if found is False:
        return None
    if isinstance(found, Response):
        raise HTTPException(response=found)
    if _is_view_return(found):
        logger.error(
            "%r returned a view's return value, not a session; refused."
            " Raise abort(response) or Unauthorized() to refuse a request",
            authenticate,
        )
        raise Unauthorized()
    return found


def _is_view_return(value: t.Any) -> bool:
    """``(response, ...)``, ``(body, status)``, ``(body, status, headers)``."""
    if not isinstance(value, tuple) or not 2 <= len(value) <= 3:
        return False
    status = value[1]
    return isinstance(value[0], Response) or (
        isinstance(status, int) and not isinstance(status, bool)
    )


def principal_of(session: t.Any, source: str = DEFAULT_SOURCE) -> str | None:
    """A stable, hashed name of whom ``session`` belongs to, through which
    way in, for binding MCP sessions and multi-round state to their caller.

    The identity is the first field of ``principal``, ``subject``, ``sub``,
    ``id``, ``user_id``, ``client_id``, ``email`` the session has (key or
    attribute), else the whole session as JSON.
    """
    if session is None:
        return None
    for name in IDENTITY_FIELDS:
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
