"""Auth0 as the upstream identity provider (OpenID Connect).

The issuer is ``https://{domain}/``, *with* the trailing slash its tokens
carry. Without an ``audience``, Auth0 issues an opaque access token good for
userinfo only; with the ``audience`` of one of your APIs it issues a JWT for
that API, whose ``aud`` also names userinfo when ``openid`` was asked, so the
user is still read from userinfo. Auth0 puts no roles in tokens by itself: a
post-login Action adds them as a namespaced claim
(``https://example.com/roles``), which ``roles_claim`` names. Refresh tokens
need ``offline_access`` and *Allow Offline Access* on the API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .oidc import OIDCProvider
from .okta import _origin


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class Auth0Provider(OIDCProvider):
    """Sign in with Auth0.

    Takes the settings of :class:`~.oidc.OIDCProvider` but ``issuer``, which
    follows from ``domain``; create a *Regular Web Application* whose
    *Allowed Callback URLs* has ``{base_url}/oauth/callback``. And:

    :param domain: the tenant's domain (``acme.us.auth0.com``, or a custom
        domain), or its URL.
    :param audience: the identifier of an API to get access tokens for
        (sent as ``audience`` with every authorization request).
    :param roles_claim: the namespaced claim a post-login Action sets, for
        instance ``"https://example.com/roles"``.
    """

    domain: str
    audience: str | None = None
    issuer: str = dataclasses.field(default="", init=False)
    scopes: Sequence[str] = ("openid", "email", "profile", "offline_access")
    roles_claim: str | Sequence[str] | None = None
    name: str = "auth0"

    def __post_init__(self) -> None:
        self.issuer = _origin(self.domain) + "/"
        if self.audience is not None:
            if not self.audience:
                raise ValueError("audience must not be empty")
            self.extra_authorize_params = {
                "audience": self.audience,
                **(self.extra_authorize_params or {}),
            }
        super().__post_init__()
