"""GitLab as the upstream identity provider (OpenID Connect).

The issuer is the instance's URL (``https://gitlab.com`` or a self-managed
one); endpoints under ``/oauth/``. The ID token's ``sub`` is the numeric user
id; the username is ``nickname``. Group memberships are in userinfo's
``groups`` (full paths, ``acme/platform``) and the ID token's
``groups_direct``: both are read as roles, so userinfo is read at every
sign-in. Access tokens are opaque; refresh tokens rotate; there is no token
exchange.
"""

from __future__ import annotations

import dataclasses
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from .oidc import OIDCProvider
from .provider import OAuthSession
from .upstream_responses import str_or_none

#: GitLab.com.
GITLAB_URL = "https://gitlab.com"


@dataclasses.dataclass(frozen=True)
class GitLabSession(OAuthSession):
    """The session of a user who signed in with GitLab.

    :attr:`subject` is the numeric user id; :attr:`roles` the paths of the
    user's groups.
    """

    #: The username (``nickname``), which the user can change.
    username: str | None = None


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class GitLabProvider(OIDCProvider):
    """Sign in with GitLab.

    Takes the settings of :class:`~.oidc.OIDCProvider` but ``issuer``, which
    is ``gitlab_url``; create an application (user, group or instance) with
    the *Redirect URI* ``{base_url}/oauth/callback``, *Confidential*, and the
    scopes below. And:

    :param gitlab_url: the GitLab instance.
    """

    gitlab_url: str = GITLAB_URL
    issuer: str = dataclasses.field(default="", init=False)
    scopes: Sequence[str] = ("openid", "profile", "email")
    roles_claim: str | Sequence[str] | None = ("groups", "groups_direct")
    fetch_userinfo: bool = True
    name: str = "gitlab"

    session_class: t.ClassVar[type[OAuthSession]] = GitLabSession

    def __post_init__(self) -> None:
        self.gitlab_url = self.gitlab_url.rstrip("/")
        self.issuer = self.gitlab_url
        super().__post_init__()

    def session_fields(self, identity: Mapping[str, t.Any]) -> dict[str, t.Any]:
        username = str_or_none(identity.get("nickname")) or str_or_none(
            identity.get("preferred_username")
        )
        return {"username": username}
