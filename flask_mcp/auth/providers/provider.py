"""What the OAuth proxy needs from an upstream identity provider.

A :class:`Provider` knows one upstream authorization server (Google,
GitHub, Microsoft, any OIDC issuer): how to send the user there, how to turn
the code it returns into tokens, how to refresh and revoke them, and who the
user is. It knows nothing about MCP clients, which only ever see the proxy's
own tokens (no token passthrough).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from dataclasses import field

from ...errors import FlaskMCPError


@dataclass(frozen=True)
class UpstreamTokens:
    """Tokens from the upstream token endpoint, normalised."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    #: Unix time the access token expires, ``None`` when upstream did not say.
    expires_at: float | None = None
    scopes: tuple[str, ...] = ()
    raw: t.Mapping[str, t.Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class OAuthSession:
    """The auth session a tool sees when the server runs the OAuth proxy.

    ``access_token`` is the *upstream* token, for calling the provider's APIs
    on the user's behalf; clients never see it.
    """

    subject: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    #: Scopes granted to the MCP client by this server.
    scopes: frozenset[str] = frozenset()
    email: str | None = None
    name: str | None = None
    client_id: str | None = None
    claims: t.Mapping[str, t.Any] = field(default_factory=dict)
    #: The user's roles at the provider, from the claims the provider puts
    #: them in (``require_role`` reads them), as of the sign-in.
    roles: frozenset[str] = frozenset()


class Provider(t.Protocol):
    """An upstream identity provider as the OAuth proxy uses it.

    :class:`~flask_mcp.auth.providers.OAuthProvider` implements it for
    explicit endpoints; the ready-made providers subclass that.
    """

    #: Short name, used in logs and store keys.
    name: str
    #: Public URL of this Flask app, without a trailing slash.
    base_url: str
    #: The session type handed to tools (``GoogleSession``, ...).
    session_class: t.ClassVar[type[OAuthSession]]

    @property
    def redirect_uri(self) -> str:
        """``{base_url}/oauth/callback``: registered at the upstream provider."""
        ...

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        """Where to send the browser, with this leg's own state and PKCE S256."""
        ...

    def exchange_code(self, *, code: str, code_verifier: str) -> UpstreamTokens:
        """Redeem the upstream code server-side; :class:`UpstreamError` if refused."""
        ...

    def refresh(self, refresh_token: str) -> UpstreamTokens:
        """New upstream tokens; :class:`UpstreamError` when refused."""
        ...

    def revoke(self, tokens: UpstreamTokens) -> None:
        """Revoke upstream tokens where the provider supports it (best effort)."""
        ...

    def identity(self, tokens: UpstreamTokens) -> dict[str, t.Any]:
        """Who the user is: ``sub`` plus provider fields (email, name, login...)."""
        ...

    def session(
        self,
        tokens: UpstreamTokens,
        identity: t.Mapping[str, t.Any],
        *,
        scopes: frozenset[str],
        client_id: str,
    ) -> OAuthSession:
        """The typed auth session handed to tools."""
        ...


class UpstreamError(FlaskMCPError):
    """The upstream provider refused or failed.

    :param error: the OAuth error code (upstream's, or ``server_error``,
        ``temporarily_unavailable``...).
    :param description: what happened, safe to log (never a token).
    :param call: the upstream call that failed ("token endpoint", "userinfo
        endpoint", "JWKS", "discovery document"...), for the log.
    """

    def __init__(
        self, error: str, description: str | None = None, *, call: str | None = None
    ) -> None:
        super().__init__(description or error)
        self.error = error
        self.description = description
        self.call = call
