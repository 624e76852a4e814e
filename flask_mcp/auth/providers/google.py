"""Google as the upstream identity provider (OpenID Connect).

Endpoints come from https://accounts.google.com/.well-known/openid-configuration
(token ``https://oauth2.googleapis.com/token``, revocation
``https://oauth2.googleapis.com/revoke``). With offline access the
authorization URL asks ``access_type=offline&prompt=consent`` so that Google
issues a refresh token on every login, not only the first.
"""

from __future__ import annotations

import dataclasses
import typing as t
from collections.abc import Mapping

from .oidc import OIDCProvider
from .provider import OAuthSession
from .provider import UpstreamError

#: Google's OpenID Connect issuer.
GOOGLE_ISSUER = "https://accounts.google.com"


@dataclasses.dataclass(frozen=True)
class GoogleSession(OAuthSession):
    """The session of a user who signed in with Google."""

    #: Whether Google verified :attr:`email`.
    email_verified: bool | None = None
    #: URL of the profile picture.
    picture: str | None = None
    #: The Google Workspace domain of the account, ``None`` for consumer accounts.
    hd: str | None = None


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class GoogleProvider(OIDCProvider):
    """Sign in with Google.

    Takes the settings of :class:`~.oidc.OIDCProvider`; register
    ``{base_url}/oauth/callback`` as redirect URI of the OAuth client, whose
    id ends in ``.apps.googleusercontent.com``. And:

    :param offline_access: ask for a refresh token.
    :param hosted_domain: only let in accounts of this Workspace domain
        (checked on the ID token's ``hd`` claim, not only hinted to Google);
        ``"*"`` lets in any Workspace account but no consumer account.
    :param issuer: Google's issuer; another URL only for tests.
    """

    issuer: str = GOOGLE_ISSUER
    offline_access: bool = True
    hosted_domain: str | None = None
    name: str = "google"
    display_name: str | None = "Google"

    session_class: t.ClassVar[type[OAuthSession]] = GoogleSession

    def __post_init__(self) -> None:
        params: dict[str, str] = {}
        if self.offline_access:
            params.update(access_type="offline", prompt="consent")
        if self.hosted_domain:
            params["hd"] = self.hosted_domain
        self.extra_authorize_params = {**params, **(self.extra_authorize_params or {})}
        super().__post_init__()

    def accepted_issuers(self, claims: Mapping[str, t.Any]) -> tuple[str, ...]:
        # Google documents both forms of its issuer in ID tokens.
        if self.issuer == GOOGLE_ISSUER:
            return (GOOGLE_ISSUER, "accounts.google.com")
        return (self.issuer,)

    def check_identity(self, identity: dict[str, t.Any]) -> dict[str, t.Any]:
        hd = identity.get("hd")
        if self.hosted_domain and not (
            hd == self.hosted_domain or (self.hosted_domain == "*" and hd)
        ):
            raise UpstreamError(
                "access_denied", "the Google account is not in the allowed domain"
            )
        return identity

    def session_fields(self, identity: Mapping[str, t.Any]) -> dict[str, t.Any]:
        verified = identity.get("email_verified")
        picture, hd = identity.get("picture"), identity.get("hd")
        return {
            "email_verified": verified in (True, "true")
            if verified is not None
            else None,
            "picture": picture if isinstance(picture, str) else None,
            "hd": hd if isinstance(hd, str) else None,
        }
