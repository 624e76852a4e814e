"""Amazon Cognito user pools as the upstream identity provider (OpenID Connect).

The issuer is ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}``,
where the discovery document and the JWK Set are; the OAuth endpoints are on
the user pool's *domain* (``https://{prefix}.auth.{region}.amazoncognito.com``
or a custom one): ``/oauth2/authorize``, ``/oauth2/token``,
``/oauth2/userInfo`` and ``/oauth2/revoke``, set from ``domain`` here.
Groups are in ``cognito:groups`` (ID and access token). Access tokens have
no ``aud`` (their client is in ``client_id``); refresh tokens are not
rotated; there is no token exchange.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .oidc import OIDCProvider
from .okta import _origin


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class CognitoProvider(OIDCProvider):
    """Sign in with an Amazon Cognito user pool.

    Takes the settings of :class:`~.oidc.OIDCProvider`; add
    ``{base_url}/oauth/callback`` to the app client's *Allowed callback
    URLs*, with the *Authorization code grant* and the scopes below. And:

    :param user_pool_id: the pool's id (``us-east-1_AbCdEf123``).
    :param domain: the user pool's domain, or its URL.
    :param region: the pool's region; by default the prefix of its id.
    :param issuer: the issuer, for partitions other than ``aws`` (and
        tests); by default made from ``region`` and ``user_pool_id``.
    """

    domain: str
    user_pool_id: str = ""
    region: str = ""
    issuer: str = ""
    scopes: Sequence[str] = ("openid", "email", "profile")
    roles_claim: str | Sequence[str] | None = "cognito:groups"
    name: str = "cognito"

    def __post_init__(self) -> None:
        if not self.issuer:
            if "_" not in self.user_pool_id:
                raise ValueError("user_pool_id must look like 'us-east-1_AbC123'")
            self.region = self.region or self.user_pool_id.split("_", 1)[0]
            self.issuer = (
                f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"
            )
        origin = _origin(self.domain)
        self.authorize_url = self.authorize_url or f"{origin}/oauth2/authorize"
        self.token_url = self.token_url or f"{origin}/oauth2/token"
        self.userinfo_url = self.userinfo_url or f"{origin}/oauth2/userInfo"
        self.revocation_url = self.revocation_url or f"{origin}/oauth2/revoke"
        super().__post_init__()
