"""Several ways in on one endpoint: :func:`any_of`.

Staff sign in through the company's identity provider while CI jobs and bots
use API keys, on the same MCP endpoint. Each way in is an ``authenticate``
function; :class:`AnyOf` tries them in order and says which one let the
request in (its *source*, see :mod:`.principals`).
"""

from __future__ import annotations

import typing as t
from collections.abc import Sequence

from werkzeug.exceptions import HTTPException

from .._sync import run_sync
from ..store.binding import bind_store
from .authenticators import Authenticator
from .authenticators import challenges_of
from .errors import AuthError
from .principals import Authenticated
from .principals import identify
from .principals import session_of
from .principals import source_of

if t.TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from flask_mcp.store import Store


class AnyOf:
    """Tries each ``authenticate`` function in order; the first session wins.

    * A function returning ``None`` found no credential of its kind: the next
      one is tried.
    * A function refusing with 401 (:class:`~flask_mcp.auth.Unauthorized`,
      ``abort(401)``) may have read a credential meant for another one (two
      ways in reading ``Authorization: Bearer``): the next one is tried, and
      when none lets the request in, the first refusal is the answer.
    * Any other refusal (403, 503...) or error is the answer at once.
    * No function found a credential: ``None``, a 401 without error code.

    :param members: ``(source, authenticate)`` pairs, in order.
    """

    def __init__(self, members: Sequence[tuple[str, Authenticator]]) -> None:
        if not members:
            raise ValueError("any_of() needs at least one authenticate function")
        self.members: tuple[tuple[str, Authenticator], ...] = tuple(members)
        #: The challenges the members declare, for the 401 answer.
        self.www_authenticate: tuple[str, ...] = tuple(
            dict.fromkeys(c for _, member in members for c in challenges_of(member))
        )

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(source for source, _ in self.members)

    def identify(self, request: Request) -> Authenticated | None:
        """The session and the way in that let ``request`` in, or ``None``.

        :raises AuthError: or ``HTTPException``, as described above.
        """
        refused: AuthError | HTTPException | None = None
        for source, member in self.members:
            try:
                found = run_sync(identify(member, request))
                if not isinstance(found, Authenticated):
                    found = session_of(found, member)
            except (AuthError, HTTPException) as error:
                if _status(error) != 401:
                    raise
                refused = refused or error
                continue
            if isinstance(found, Authenticated):
                return found
            if found is not None:
                return Authenticated(found, source)
        if refused is not None:
            raise refused
        return None

    def __call__(self, request: Request) -> t.Any:
        found = self.identify(request)
        return None if found is None else found.session

    def bind_store(self, store: Store) -> None:
        """Hand the app's store to every member that takes one."""
        for _, member in self.members:
            bind_store(member, store)

    def __repr__(self) -> str:
        return f"any_of({', '.join(self.sources)})"


def any_of(*members: Authenticator | tuple[str, Authenticator]) -> AnyOf:
    """One ``authenticate`` for several ways in (see :class:`AnyOf`).

    >>> authenticate = any_of(
    ...     bearer_auth(JWTVerifier(issuer=..., audience=...)),  # doctest: +SKIP
    ...     ("ci", api_key_auth(CI_KEYS)),
    ... )

    :param members: ``authenticate`` functions, each named by its ``source``
        attribute (:class:`~flask_mcp.auth.principals.HasSource`), or
        ``(source, authenticate)`` pairs. Another :class:`AnyOf` adds its
        members. Equal names get ``#2``, ``#3``... so that every way in has
        its own.
    :raises ValueError: without members, or for a member that is not callable.
    """
    flat: list[tuple[str, Authenticator]] = []
    for member in members:
        if isinstance(member, tuple):
            source, function = member
            if not isinstance(source, str) or not source:
                raise ValueError(
                    f"the source of {function!r} must be a non-empty string"
                )
            flat.append((source, function))
        elif isinstance(member, AnyOf):
            flat.extend(member.members)
        else:
            flat.append((source_of(member), member))
    for source, function in flat:
        if not callable(function):
            raise ValueError(f"{source}: {function!r} is not an authenticate function")
    return AnyOf(_unique(flat))


def _unique(
    members: list[tuple[str, Authenticator]],
) -> list[tuple[str, Authenticator]]:
    """Each way in with a name of its own: a taken name gets ``#2``, ``#3``...,
    also when the name taken was given by hand (``("bearer#2", ...)``), since
    ways that share a name share their principals."""
    taken: set[str] = set()
    named = []
    for source, function in members:
        name, count = source, 1
        while name in taken:
            count += 1
            name = f"{source}#{count}"
        taken.add(name)
        named.append((name, function))
    return named


def _status(error: AuthError | HTTPException) -> int | None:
    if isinstance(error, AuthError):
        return error.status_code
    if error.response is not None:
        return error.response.status_code
    return error.code
