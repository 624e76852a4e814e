"""Access checks: their contracts, and the one policy for running them.

An access check (``can_access=``) is any callable taking the auth session
(``None`` for an anonymous request) and answering whether it may go on.
Tools, resources, prompts and protected routes all run theirs through
:func:`run_check`, so one check behaves the same wherever it guards:

* a true answer allows, a false one denies; an ``async def`` check is
  awaited first;
* a check that **raises**, or answers something that is no yes or no (a
  function: a check factory's result passed where its call belonged; an
  awaitable still pending; a generator), **denies**, and the log names the
  check and what it guards, with the traceback. A broken check fails closed
  and never becomes a 500: the component it guards is hidden (a step-up
  tool's call is refused with 403), the route it guards answers 403.

This module sits below components, auth and transport, which all import it:
components must not know about auth, yet run the same checks.
"""

from __future__ import annotations

import inspect
import logging
import typing as t

from ._sync import run_sync

log = logging.getLogger(__name__)

#: Any callable taking the session (or ``None``) and answering ``True`` to allow.
Check = t.Callable[[t.Any], t.Any]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


@t.runtime_checkable
class ScopedCheck(t.Protocol):
    """A check that knows which scopes would satisfy it.

    A refusal by such a check is answered 403 ``insufficient_scope`` with
    these scopes (:rfc:`6750#section-3.1`), so the client can ask for them
    (step-up authorization). :class:`~flask_mcp.auth.AccessCheck` is one.
    """

    required_scopes: tuple[str, ...]

    def __call__(self, session: t.Any, /) -> t.Any: ...


@t.runtime_checkable
class CheckFactory(t.Protocol):
    """A function that *makes* checks (``require_role``, ``require_scopes``).

    Marked so that passing it uncalled as ``can_access`` (``require_role``
    instead of ``require_role("admin")``) is refused at registration: its
    result would be a truthy object that lets everyone in.
    """

    __mcp_check_factory__: t.Literal[True]

    def __call__(self, *args: t.Any) -> Check: ...


def mark_factory(fn: F) -> F:
    """Mark ``fn`` as a :class:`CheckFactory`."""
    fn.__mcp_check_factory__ = True  # type: ignore[attr-defined]
    return fn


def is_check_factory(value: object) -> bool:
    """Whether ``value`` is a :class:`CheckFactory` (a mistake as a check)."""
    return getattr(value, "__mcp_check_factory__", False) is True


def required_scopes(check: object) -> tuple[str, ...]:
    """The scopes that would satisfy ``check`` (a :class:`ScopedCheck`);
    ``()`` for any other check."""
    if not isinstance(check, ScopedCheck):
        return ()
    return tuple(s for s in check.required_scopes if isinstance(s, str) and s)


def run_check(check: Check, session: t.Any, *, guarding: str) -> bool:
    """Whether ``check`` lets ``session`` through, by the policy above.

    :param guarding: what the check guards (``"tool 'deploy'"``,
        ``"route /admin"``), for the log.
    """
    try:
        answer = run_sync(check(session))
        if is_answer(answer):
            return bool(answer)  # may raise too: an array of several values
    except Exception:
        log.exception("can_access of %s raised; access denied", guarding)
        return False
    if inspect.iscoroutine(answer):
        answer.close()
    log.error(
        "can_access of %s returned %r, not a bool; access denied",
        guarding,
        answer,
    )
    return False


def is_answer(value: object) -> bool:
    """Whether ``value`` may be read as a yes or no: not a function, an
    awaitable, a generator (a check written with ``yield``) or
    ``NotImplemented``, all of which are true and would allow."""
    return not (
        callable(value)
        or inspect.isawaitable(value)
        or inspect.isgenerator(value)
        or inspect.isasyncgen(value)
        or value is NotImplemented
    )
