"""Okta as the upstream identity provider (OpenID Connect).

A custom authorization server's issuer is
``https://{domain}/oauth2/{authorization_server}`` (``default`` is the one
every Okta org has), its endpoints under ``/v1/``; the org authorization
server's is ``https://{domain}``. Groups reach tokens only through a
*groups claim* configured on the authorization server (a filter such as
*Matches regex* ``.*``), named ``groups`` by convention: that is where roles
are read. Refresh tokens need the ``offline_access`` scope and the *Refresh
Token* grant enabled on the app. Okta's access tokens name the user's *login*
in ``sub``, while ID tokens name the user id: sessions use the ID token's.
Custom authorization servers support :rfc:`8693` token exchange.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .oidc import OIDCProvider


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class OktaProvider(OIDCProvider):
    """Sign in with Okta.

    Takes the settings of :class:`~.oidc.OIDCProvider` but ``issuer``, which
    follows from these; create an *OIDC Web Application* integration whose
    *Sign-in redirect URI* is ``{base_url}/oauth/callback``. And:

    :param domain: the Okta domain (``dev-123456.okta.com``, or a custom
        domain), or its URL.
    :param authorization_server: a custom authorization server's id
        (``default``...), or ``None`` for the org authorization server.
    """

    domain: str
    authorization_server: str | None = "default"
    issuer: str = dataclasses.field(default="", init=False)
    scopes: Sequence[str] = ("openid", "email", "profile", "offline_access")
    roles_claim: str | Sequence[str] | None = "groups"
    name: str = "okta"

    def __post_init__(self) -> None:
        origin = _origin(self.domain)
        server = self.authorization_server
        if server is not None and (not server or "/" in server):
            raise ValueError("authorization_server must be an id such as 'default'")
        self.issuer = f"{origin}/oauth2/{server}" if server else origin
        super().__post_init__()


def _origin(domain: str) -> str:
    """``https://{domain}``, or ``domain`` itself when it is a URL."""
    if not domain:
        raise ValueError("domain is required")
    origin = domain if "://" in domain else f"https://{domain}"
    return origin.rstrip("/")
