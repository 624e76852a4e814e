"""The :class:`OAuthProxy`: an authorization server for MCP clients that
delegates the login to an upstream provider."""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from flask import Flask
from flask import current_app
from flask import request as flask_request

from ..authenticators import bearer_auth
from ..errors import Unauthorized
from ..metadata import OAuthSettings
from ..providers.base import OAuthSession
from ..providers.base import Provider
from .consent import BrowserCookie
from .keyfiles import key_path
from .keys import SigningKeys
from .metadata import oauth_settings
from .metadata import server_metadata
from .redirects import RedirectPattern
from .registration import ProxyClientRegistrationEndpoint
from .registration import ProxyRevocationEndpoint
from .resource import ResourceGuard
from .sealing import Sealer
from .server import ProxyAuthorizationServer
from .state import EXTENSION_KEY
from .state import ProxyState
from .storage import ProxyStorage
from .tokens import AccessTokenValidator
from .upstream import UpstreamLeg

if t.TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from flask_mcp.store import Store

__all__ = ["OAuthProxy"]

log = logging.getLogger(__name__)


class OAuthProxy:
    """An OAuth 2.1 authorization server for MCP clients in front of an
    upstream identity provider (Google, GitHub, any OIDC issuer...).

    MCP clients register themselves (:rfc:`7591`), get this server's own
    tokens, and never see the upstream ones; tools get the upstream tokens
    in their :class:`~flask_mcp.auth.providers.base.OAuthSession`.

    :param provider: the upstream provider.
    :param scopes: scopes clients may ask for (``scopes_supported``); a
        request without ``scope`` gets the client's registered scope, else
        all of these.
    :param redirect_uri_patterns: optional allow-list of redirect URIs, e.g.
        ``["https://app.example.com/*", "http://127.0.0.1:*/callback"]``:
        hosts match exactly, ``*`` stands for any port or a path suffix.
    :param registration_token: initial access token required by
        ``/oauth/register`` (:rfc:`7591#section-3`); ``None``: open.
    :param access_token_ttl: seconds an access token lives.
    :param refresh_token_ttl: seconds a refresh token (and so an idle grant)
        lives; every refresh starts a new period.
    :param signing_keys: private JWKs or PEM strings, newest (signing) first;
        ``None``: ``MCP_OAUTH_SIGNING_KEYS`` from the app config, else a key
        generated once in the instance folder.
    :param encryption_key: 32 bytes (or their URL-safe base64) sealing
        upstream tokens in the store; ``None``: ``MCP_OAUTH_ENCRYPTION_KEY``,
        else a key generated once in the instance folder.
    """

    def __init__(
        self,
        provider: Provider,
        *,
        scopes: Sequence[str] = (),
        redirect_uri_patterns: Sequence[str] | None = None,
        registration_token: str | None = None,
        access_token_ttl: int = 3600,
        refresh_token_ttl: int = 30 * 86400,
        signing_keys: Sequence[Mapping[str, t.Any] | str] | None = None,
        encryption_key: str | bytes | None = None,
    ) -> None:
        if isinstance(scopes, str):
            raise TypeError("scopes must be a sequence of strings, not a string")
        if access_token_ttl <= 0 or refresh_token_ttl <= 0:
            raise ValueError("token lifetimes must be positive")
        if registration_token is not None and not registration_token:
            raise ValueError("registration_token must not be empty")
        self.provider = provider
        self.scopes: tuple[str, ...] = tuple(dict.fromkeys(scopes))
        self.redirect_uri_patterns = (
            None
            if redirect_uri_patterns is None
            else [RedirectPattern(p) for p in redirect_uri_patterns]
        )
        self.registration_token = registration_token
        self.access_token_ttl = int(access_token_ttl)
        self.refresh_token_ttl = int(refresh_token_ttl)
        self._signing_keys = (
            SigningKeys.from_config(signing_keys) if signing_keys is not None else None
        )
        self._sealer = (
            Sealer.from_config(encryption_key) if encryption_key is not None else None
        )

    @property
    def issuer(self) -> str:
        """The issuer identifier: the provider's ``base_url``."""
        return self.provider.base_url.rstrip("/")

    # -- setup -------------------------------------------------------------

    def init_app(self, app: Flask, *, store: Store, mcp_path: str, name: str) -> None:
        """Register the ``{name}_oauth`` blueprint and the per-app state.

        Keys not given are read from ``MCP_OAUTH_SIGNING_KEYS`` /
        ``MCP_OAUTH_ENCRYPTION_KEY``, else generated once in the instance
        folder (every worker and restart then shares them).
        """
        from .views import oauth_blueprint

        states: dict[str, ProxyState] = app.extensions.setdefault(EXTENSION_KEY, {})
        if name in states:
            raise RuntimeError(f"an OAuthProxy named {name!r} is already on this app")
        keys = self._keys(app, name)
        sealer = self._sealer_for(app, name)
        issuer, resource = self.issuer, self.issuer + mcp_path
        storage = ProxyStorage(store, sealer, refresh_ttl=self.refresh_token_ttl)
        upstream = UpstreamLeg(self.provider, storage)
        validator = AccessTokenValidator(issuer, resource, keys)
        server = ProxyAuthorizationServer(
            issuer=issuer,
            resource=resource,
            scopes=self.scopes,
            storage=storage,
            keys=keys,
            access_token_ttl=self.access_token_ttl,
            end_grant=upstream.end_grant,
        )
        metadata = server_metadata(issuer, self.scopes)
        server.register_endpoint(
            ProxyClientRegistrationEndpoint(
                storage=storage,
                metadata=dict(metadata, scopes_supported=list(self.scopes)),
                patterns=self.redirect_uri_patterns,
                registration_token=self.registration_token,
            )
        )
        server.register_endpoint(
            ProxyRevocationEndpoint(
                storage=storage, validator=validator, end_grant=upstream.end_grant
            )
        )
        guard = ResourceGuard(
            provider=self.provider,
            validator=validator,
            storage=storage,
            upstream=upstream,
            end_grant=upstream.end_grant,
        )
        states[name] = ProxyState(
            proxy=self,
            name=name,
            blueprint=f"{name}_oauth",
            issuer=issuer,
            resource=resource,
            provider=self.provider,
            keys=keys,
            storage=storage,
            server=server,
            upstream=upstream,
            guard=guard,
            cookie=BrowserCookie(
                name,
                secure=issuer.startswith("https://"),
                key=sealer.derive("browser-cookie"),
            ),
            authenticate=bearer_auth(guard.session),
        )
        app.register_blueprint(oauth_blueprint(f"{name}_oauth", name))

    def _keys(self, app: Flask, name: str) -> SigningKeys:
        if self._signing_keys is not None:
            return self._signing_keys
        configured = app.config.get("MCP_OAUTH_SIGNING_KEYS")
        if configured:
            return SigningKeys.from_config(configured)
        _warn_generated(app, "signing")
        return SigningKeys.persisted(key_path(app.instance_path, name, "signing.jwks"))

    def _sealer_for(self, app: Flask, name: str) -> Sealer:
        if self._sealer is not None:
            return self._sealer
        configured = app.config.get("MCP_OAUTH_ENCRYPTION_KEY")
        if configured:
            return Sealer.from_config(configured)
        _warn_generated(app, "encryption")
        return Sealer.persisted(key_path(app.instance_path, name, "encryption.key"))

    # -- what FlaskMCP uses --------------------------------------------------

    def oauth_settings(self, mcp_path: str) -> OAuthSettings:
        """The discovery documents: :rfc:`8414` metadata (issuer =
        ``provider.base_url``) and the :rfc:`9728` document of the MCP
        endpoint at ``mcp_path``."""
        return oauth_settings(self.issuer, self.issuer + mcp_path, self.scopes)

    def authenticate(self, request: Request) -> OAuthSession | None:
        """The session of a request to the MCP endpoint (or a protected route).

        Reads only ``Authorization: Bearer``; ``None`` without credentials.

        :raises Unauthorized: ``invalid_token`` for a token this server did
            not issue for this app's MCP endpoint, an expired or revoked one.
        """
        states = [
            state
            for state in current_app.extensions.get(EXTENSION_KEY, {}).values()
            if state.proxy is self
        ]
        if len(states) > 1:
            # One proxy in front of several MCP endpoints: the request's
            # blueprint (the FlaskMCP's name) tells which audience applies.
            blueprint = getattr(flask_request, "blueprint", None)
            states = [state for state in states if state.name == blueprint]
        if len(states) != 1:
            raise Unauthorized(
                "no MCP endpoint of this proxy here", error="invalid_token"
            )
        return t.cast("OAuthSession | None", states[0].authenticate(request))


def _warn_generated(app: Flask, kind: str) -> None:
    store_url = app.config.get("MCP_STORE_URL") or ""
    if not store_url.startswith(("file:", "memory:")) and store_url:
        log.warning(
            "OAuthProxy: no %s key configured; using one generated in %s. Every"
            " host needs the same key: configure it when running several hosts.",
            kind,
            app.instance_path,
        )
