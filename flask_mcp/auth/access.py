"""Access checks: may this session use that tool, resource or prompt?

A check is any ``Callable[[session | None], bool]``; the ones built here also
carry :attr:`AccessCheck.required_scopes`, so a caller that refuses a request
can answer 403 ``insufficient_scope`` with the scopes to ask for
(:rfc:`6750#section-3.1`). Sessions may be mappings or plain objects: scopes
and roles are read from a key or attribute of that name.

Every ``can_access`` runs under one policy, :func:`run_check`'s: a check
that raises or answers no yes or no denies, and the log says what it guards.
A combination (:func:`require_all`, :func:`require_any`) with a broken part
is one broken check.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable
from collections.abc import Mapping

from .._check_policy import Check as Check
from .._check_policy import CheckFactory as CheckFactory
from .._check_policy import ScopedCheck as ScopedCheck
from .._check_policy import is_answer
from .._check_policy import mark_factory
from .._check_policy import required_scopes
from .._check_policy import run_check as run_check
from .._sync import run_sync
from .errors import AuthenticationRequired

S = t.TypeVar("S")


class AccessCheck:
    """A named check with the scopes it needs (a :class:`ScopedCheck`).

    :param func: the predicate; it gets ``None`` for an anonymous request.
        Whatever it raises propagates, and an answer that is no yes or no
        raises :class:`TypeError`: :func:`run_check`, which runs every
        ``can_access``, turns both into a denial logged with what the check
        guards.
    :param name: shown by ``repr`` and in the log.
    :param required_scopes: scopes that would satisfy the check, for an
        ``insufficient_scope`` challenge.
    """

    __slots__ = ("_func", "_name", "required_scopes")

    def __init__(
        self,
        func: t.Callable[[t.Any], t.Any],
        name: str,
        required_scopes: Iterable[str] = (),
    ) -> None:
        self._func = func
        self._name = name
        #: Scopes to list in an ``insufficient_scope`` challenge, in order.
        self.required_scopes: tuple[str, ...] = tuple(dict.fromkeys(required_scopes))

    def __call__(self, session: t.Any) -> bool:
        return _answer(self._func(session))

    def __repr__(self) -> str:
        return self._name


def _field(session: t.Any, name: str) -> t.Any:
    if isinstance(session, Mapping):
        return session.get(name)
    return getattr(session, name, None)


def _as_set(value: t.Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        return frozenset(str(v) for v in value if isinstance(v, str) and v)
    return frozenset()


def scopes_of(session: t.Any) -> frozenset[str]:
    """The scopes a session holds.

    Read from ``scopes``, else ``scope``; each may be a list, tuple or set of
    strings or one space-separated string (:rfc:`6749#section-3.3`).
    """
    if session is None:
        return frozenset()
    value = _field(session, "scopes")
    if value is None:
        value = _field(session, "scope")
    return _as_set(value)


def roles_of(session: t.Any) -> frozenset[str]:
    """The roles a session holds: its ``roles`` (list or space-separated
    string) together with its ``role`` (one role name, or a list)."""
    if session is None:
        return frozenset()
    roles = _as_set(_field(session, "roles"))
    role = _field(session, "role")
    if isinstance(role, str):
        return roles | {role} if role else roles
    return roles | _as_set(role)


#: Allows any session that is not ``None``. A check itself, not a factory.
require_auth = AccessCheck(lambda session: session is not None, "require_auth")


@mark_factory
def require_scopes(*scopes: str) -> AccessCheck:
    """Allow sessions holding *all* of ``scopes``."""
    if not scopes or not all(isinstance(s, str) and s for s in scopes):
        raise ValueError("require_scopes() needs at least one non-empty scope")
    wanted = frozenset(scopes)
    return AccessCheck(
        lambda session: wanted <= scopes_of(session),
        f"require_scopes({', '.join(map(repr, scopes))})",
        scopes,
    )


@mark_factory
def require_role(*roles: str) -> AccessCheck:
    """Allow sessions holding *any* of ``roles``."""
    if not roles or not all(isinstance(r, str) and r for r in roles):
        raise ValueError("require_role() needs at least one non-empty role")
    wanted = frozenset(roles)
    return AccessCheck(
        lambda session: bool(wanted & roles_of(session)),
        f"require_role({', '.join(map(repr, roles))})",
    )


def _answer(value: t.Any) -> bool:
    """A check's yes or no; an ``async def`` check is awaited first, and an
    answer that is no yes or no (:func:`~flask_mcp._check_policy.is_answer`:
    a factory passed uncalled, a generator) is an error."""
    value = run_sync(value)
    if not is_answer(value):
        raise TypeError(f"an access check returned {value!r}, not a bool")
    return bool(value)


def _each(checks: tuple[Check, ...], session: t.Any) -> t.Iterator[bool]:
    """The answers of ``checks``, a broken one raising (see :class:`AccessCheck`)."""
    for check in checks:
        yield _answer(check(session))


@mark_factory
def require_all(*checks: Check) -> AccessCheck:
    """Allow when every check allows (AND). Its ``required_scopes`` is the
    union of the checks' scopes."""
    if not checks:
        raise ValueError("require_all() needs at least one check")
    scopes = [s for check in checks for s in required_scopes(check)]
    return AccessCheck(
        lambda session: all(_each(checks, session)),
        f"require_all({', '.join(map(repr, checks))})",
        scopes,
    )


@mark_factory
def require_any(*checks: Check) -> AccessCheck:
    """Allow when at least one check allows (OR).

    Its ``required_scopes`` are those of its only check, and empty for
    several: a challenge cannot say "these scopes *or* those".
    """
    if not checks:
        raise ValueError("require_any() needs at least one check")
    scopes = required_scopes(checks[0]) if len(checks) == 1 else ()
    return AccessCheck(
        lambda session: any(_each(checks, session)),
        f"require_any({', '.join(map(repr, checks))})",
        scopes,
    )


@t.overload
def get_auth_session(session: S | None) -> S: ...
@t.overload
def get_auth_session(session: t.Any, kind: type[S]) -> S: ...
def get_auth_session(session: t.Any, kind: type[t.Any] | None = None) -> t.Any:
    """Return ``session``, or raise if there is none.

    >>> get_auth_session({"sub": "u1"})
    {'sub': 'u1'}

    :param session: the session passed to a tool, resource or prompt.
    :param kind: when given, the session must be an instance of it; the
        result is then typed as ``kind`` for the type checker.
    :raises AuthenticationRequired: when ``session`` is ``None`` (a 401).
    :raises TypeError: when ``session`` is not a ``kind``.
    """
    if session is None:
        raise AuthenticationRequired()
    if kind is not None and not isinstance(session, kind):
        raise TypeError(
            f"expected an auth session of type {kind.__qualname__},"
            f" got {type(session).__qualname__}"
        )
    return session
