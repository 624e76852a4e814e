"""Who a caller is, in words an operator reads: where the identity comes
from (``source``), whom it names (``subject``) and through which OAuth client.

Session binding hashes the identity (:func:`~flask_mcp.transport.guard.principal_of`);
the audit trail names it, since answering "who called this tool" is its job.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

#: Fields naming whom a session belongs to, readable ones first
#: (``TokenSession.principal`` joins issuer and subject, for binding).
_SUBJECT_FIELDS = ("subject", "sub", "user_id", "id", "email", "principal", "client_id")
#: Longest subject or client id written out (a session may hold anything).
_LIMIT = 256


@dataclass(frozen=True)
class Principal:
    #: ``google``, ``github``, ``oauth`` (the OAuth proxy's session classes),
    #: ``token`` (a verified JWT or introspected token), ``custom`` (what a
    #: user's ``authenticate`` returned), or ``None`` for nobody.
    source: str | None = None
    subject: str | None = None
    client_id: str | None = None


NOBODY = Principal()


def describe(auth: t.Any) -> Principal:
    """The :class:`Principal` of an auth session; :data:`NOBODY` for ``None``."""
    if auth is None:
        return NOBODY
    return Principal(
        _source(auth), _field(auth, _SUBJECT_FIELDS), _field(auth, ("client_id",))
    )


def _source(auth: t.Any) -> str:
    if isinstance(auth, Mapping):
        return "custom"
    name = type(auth).__name__
    if name.endswith("Session") and len(name) > len("Session"):
        return name[: -len("Session")].lower()
    return "custom"


def _field(auth: t.Any, names: tuple[str, ...]) -> str | None:
    for name in names:
        if isinstance(auth, Mapping):
            value = auth.get(name)
        else:
            value = getattr(auth, name, None)
        if value is not None and value != "":
            return str(value)[:_LIMIT]
    return None
