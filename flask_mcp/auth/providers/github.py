"""GitHub as the upstream identity provider (OAuth 2.0; GitHub is not an
OpenID Connect provider).

Authorization at ``https://github.com/login/oauth/authorize``, tokens from
``https://github.com/login/oauth/access_token`` (asked for JSON: GitHub
answers form-encoded otherwise, and reports errors with HTTP 200), the user
from ``https://api.github.com/user`` and ``/user/emails``. GitHub answers the
granted scopes comma-separated. A token is revoked with
``DELETE /applications/{client_id}/token``. ``github_url`` and ``api_url``
point at GitHub Enterprise Server (``https://HOST``, ``https://HOST/api/v3``).
"""

from __future__ import annotations

import dataclasses
import logging
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from .oauth import OAuthProvider
from .provider import OAuthSession
from .provider import UpstreamError
from .provider import UpstreamTokens

logger = logging.getLogger(__name__)

#: Headers GitHub's REST API asks for.
API_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}


@dataclasses.dataclass(frozen=True)
class GitHubSession(OAuthSession):
    """The session of a user who signed in with GitHub.

    :attr:`subject` is the numeric user id (as a string): logins can change.
    """

    #: The user's login (handle).
    login: str | None = None
    #: URL of the user's avatar.
    avatar_url: str | None = None


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class GitHubProvider(OAuthProvider):
    """Sign in with GitHub (an OAuth app, or a GitHub App's user authorization).

    Takes the settings of :class:`~.options.ProviderOptions`; register
    ``{base_url}/oauth/callback`` as the callback URL. The endpoints follow
    from:

    :param github_url: GitHub's web host.
    :param api_url: GitHub's REST API root.
    """

    scopes: Sequence[str] = ("read:user", "user:email")
    github_url: str = "https://github.com"
    api_url: str = "https://api.github.com"
    authorize_url: str | None = dataclasses.field(default=None, init=False)
    token_url: str | None = dataclasses.field(default=None, init=False)
    userinfo_url: str | None = dataclasses.field(default=None, init=False)
    revocation_url: str | None = dataclasses.field(default=None, init=False)
    name: str = "github"
    display_name: str | None = "GitHub"

    session_class: t.ClassVar[type[OAuthSession]] = GitHubSession
    scope_separators = ","
    token_headers = {"Accept": "application/json"}

    def __post_init__(self) -> None:
        self.github_url = self.github_url.rstrip("/")
        self.api_url = self.api_url.rstrip("/")
        self.authorize_url = f"{self.github_url}/login/oauth/authorize"
        self.token_url = f"{self.github_url}/login/oauth/access_token"
        self.userinfo_url = f"{self.api_url}/user"
        super().__post_init__()

    def identity(self, tokens: UpstreamTokens) -> dict[str, t.Any]:
        """The user of ``GET /user``, ``sub`` being its numeric ``id``.

        ``email`` is the public e-mail, or else the primary verified address of
        ``GET /user/emails`` (when the token has ``user:email`` or ``user``).
        ``email_verified`` is ``None`` when the addresses could not be read.
        """
        url = self._required("userinfo_endpoint")
        user = self.get_json(url, tokens, "GitHub user API", API_HEADERS)
        user_id = user.get("id") if isinstance(user, dict) else None
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise UpstreamError("server_error", "GitHub sent a user without an id")
        email = user.get("email") if isinstance(user.get("email"), str) else None
        verified: bool | None = None
        emails = self._emails(tokens)
        if emails is not None:
            verified_emails = [e for e in emails if e.get("verified") is True]
            if email is None:
                primary = [e for e in verified_emails if e.get("primary") is True]
                email = primary[0]["email"] if primary else None
            verified = any(e.get("email") == email for e in verified_emails)
        return {**user, "sub": str(user_id), "email": email, "email_verified": verified}

    def revoke(self, tokens: UpstreamTokens) -> None:
        """Delete the access token at GitHub (best effort: failures are logged)."""
        url = f"{self.api_url}/applications/{self.client_id}/token"
        try:
            with self._client() as client, self._calling("GitHub token API"):
                response = client.delete(
                    url,
                    json={"access_token": tokens.access_token},
                    auth=(self.client_id, self.client_secret),
                    headers=API_HEADERS,
                    withhold_token=True,
                )
                if response.status_code not in (204, 404):
                    # 404: the token was already gone.
                    raise UpstreamError(
                        "server_error", f"GitHub answered HTTP {response.status_code}"
                    )
        except UpstreamError:
            return  # logged by _calling
        logger.debug("%s: access token revoked", self.name)

    def session_fields(self, identity: Mapping[str, t.Any]) -> dict[str, t.Any]:
        login, avatar = identity.get("login"), identity.get("avatar_url")
        return {
            "login": login if isinstance(login, str) else None,
            "avatar_url": avatar if isinstance(avatar, str) else None,
        }

    def _emails(self, tokens: UpstreamTokens) -> list[dict[str, t.Any]] | None:
        # GitHub App tokens have no scopes but may hold the e-mail permission.
        if tokens.scopes and not {"user", "user:email"} & set(tokens.scopes):
            return None
        try:
            emails = self.get_json(
                f"{self.api_url}/user/emails", tokens, "GitHub e-mail API", API_HEADERS
            )
        except UpstreamError:
            return None  # logged by _calling; the e-mail is optional
        if not isinstance(emails, list):
            return None
        return [
            e for e in emails if isinstance(e, dict) and isinstance(e.get("email"), str)
        ]
