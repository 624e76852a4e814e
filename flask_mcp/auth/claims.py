"""The session a verified access token yields, and how claims map onto it.

:class:`TokenSession` is what :class:`~flask_mcp.auth.JWTVerifier` and
:class:`~flask_mcp.auth.IntrospectionVerifier` return; it works with the
checks of :mod:`flask_mcp.auth.access` (``scopes`` and ``roles`` attributes).
Claim names follow :rfc:`9068#section-2.2` (``sub``, ``client_id``, ``scope``)
and :rfc:`7662#section-2.2` for introspection responses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import typing as t
from collections.abc import Mapping

#: The latest NumericDate accepted (9999-12-31T23:59:59Z): later values are no
#: real dates, and converting them can overflow.
MAX_NUMERIC_DATE = 253402300799


def numeric_date(value: t.Any) -> float | None:
    """``value`` as a NumericDate (:rfc:`7519#section-2`): a number of seconds
    from 0 to :data:`MAX_NUMERIC_DATE`; ``None`` for anything else (strings,
    booleans, NaN, infinities, ``2**80``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if 0 <= number <= MAX_NUMERIC_DATE else None


def invalid_dates(claims: Mapping[str, t.Any]) -> list[str]:
    """The time claims (``exp``, ``nbf``, ``iat``) present with a value that
    is not a :func:`numeric_date`."""
    return [
        name
        for name in ("exp", "nbf", "iat")
        if name in claims and numeric_date(claims[name]) is None
    ]


@dataclasses.dataclass(frozen=True)
class ClaimNames:
    """Which claims hold what. Each field is one name or several, tried in order.

    A name is first looked up as a key; if absent and it contains dots, as a
    path into nested objects (``"realm_access.roles"`` for Keycloak). Namespaced
    claims such as ``"https://example.com/roles"`` therefore work as well.
    """

    #: The subject (:rfc:`7519#section-4.1.2`).
    subject: str | tuple[str, ...] = "sub"
    #: Space-separated string (``scope``, :rfc:`8693#section-4.2`) or list (``scp``).
    scopes: str | tuple[str, ...] = ("scope", "scp")
    #: A list of role names, or one space-separated string.
    roles: str | tuple[str, ...] = "roles"
    #: The e-mail address (OpenID Connect Core, section 5.1).
    email: str | tuple[str, ...] = "email"
    #: The client the token was issued to (:rfc:`9068#section-2.2`; ``azp`` in OIDC).
    client_id: str | tuple[str, ...] = ("client_id", "azp")

    def lookup(self, claims: Mapping[str, t.Any], field: str) -> t.Any:
        """The first present value among the names of ``field``, or ``None``."""
        names = getattr(self, field)
        for name in (names,) if isinstance(names, str) else names:
            value = _lookup(claims, name)
            if value is not None:
                return value
        return None


def claim_strings(
    claims: Mapping[str, t.Any], names: str | t.Iterable[str]
) -> frozenset[str]:
    """Every string of the claims ``names`` together (a list of strings, or a
    space-separated string each), looked up as :class:`ClaimNames` does:
    ``claim_strings(claims, ("realm_access.roles", "groups"))``."""
    found: set[str] = set()
    for name in (names,) if isinstance(names, str) else names:
        found |= _names(_lookup(claims, name))
    return frozenset(found)


def _lookup(claims: Mapping[str, t.Any], name: str) -> t.Any:
    if name in claims:
        return claims[name]
    if "." not in name:
        return None
    value: t.Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _names(value: t.Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(v for v in value if isinstance(v, str) and v)
    return frozenset()


def _text(value: t.Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclasses.dataclass(frozen=True)
class TokenSession:
    """An authenticated caller, from a verified access token.

    Attribute access is the main interface; ``session["name"]`` and
    ``session.get("name")`` read a field of that name, else the raw claim
    (``session["sub"]``, ``session["tenant"]``), for code written against dict
    sessions.
    """

    #: ``sub``: who the token is about (a user, or the client for machine tokens).
    subject: str | None
    #: Granted scopes.
    scopes: frozenset[str] = frozenset()
    #: Role names.
    roles: frozenset[str] = frozenset()
    #: E-mail address, when the token has one.
    email: str | None = None
    #: The OAuth client the token was issued to.
    client_id: str | None = None
    #: Expiry as a Unix timestamp, or ``None``.
    expires_at: float | None = None
    #: Every claim of the token (or introspection response), as received.
    claims: Mapping[str, t.Any] = dataclasses.field(default_factory=dict, hash=False)
    #: The raw access token, to call APIs that accept the same token. Kept out
    #: of ``repr`` so it never lands in logs.
    token: str | None = dataclasses.field(default=None, repr=False, hash=False)

    @classmethod
    def from_claims(
        cls,
        claims: Mapping[str, t.Any],
        *,
        token: str | None = None,
        names: ClaimNames | None = None,
    ) -> TokenSession:
        """Build a session from verified claims.

        :param claims: a JWT payload or an introspection response.
        :param token: the raw token.
        :param names: where to find each field; :class:`ClaimNames` by default.
        """
        names = names or ClaimNames()
        subject = names.lookup(claims, "subject")
        return cls(
            subject=str(subject) if isinstance(subject, (str, int)) else None,
            scopes=_names(names.lookup(claims, "scopes")),
            roles=_names(names.lookup(claims, "roles")),
            email=_text(names.lookup(claims, "email")),
            client_id=_text(names.lookup(claims, "client_id")),
            expires_at=numeric_date(claims.get("exp")),
            claims=dict(claims),
            token=token,
        )

    @property
    def principal(self) -> str:
        """Whom this session belongs to, to bind MCP sessions to their caller.

        The issuer and :attr:`subject`; for a token without subject (a
        verifier configured with ``require_sub=False``), the token itself: two
        such tokens never share an MCP session, since nothing says they
        belong to one principal (their ``client_id`` may be shared by many).
        """
        if self.subject is not None:
            return f"iss={self.claims.get('iss')!r} sub={self.subject!r}"
        if self.token is not None:
            return "token=" + hashlib.sha256(self.token.encode()).hexdigest()
        canonical = json.dumps(dict(self.claims), sort_keys=True, default=repr)
        return "claims=" + hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def access_token(self) -> str | None:
        """Alias of :attr:`token` (``accessToken`` in FastMCP)."""
        return self.token

    def is_expired(self, now: float | None = None) -> bool:
        """Whether :attr:`expires_at` has passed."""
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) >= self.expires_at

    def __getitem__(self, key: str) -> t.Any:
        if key in _FIELDS:
            return getattr(self, key)
        return self.claims[key]

    def get(self, key: str, default: t.Any = None) -> t.Any:
        """Like :meth:`dict.get`: a field, else a claim, else ``default``."""
        try:
            value = self[key]
        except KeyError:
            return default
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return key in _FIELDS or key in self.claims


_FIELDS = frozenset(f.name for f in dataclasses.fields(TokenSession)) | {
    "access_token",
    "principal",
}
