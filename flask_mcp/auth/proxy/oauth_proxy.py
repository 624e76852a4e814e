"""The :class:`OAuthProxy`: an authorization server for MCP clients that
delegates the login to an upstream provider."""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from flask import Flask

from ...store.binding import bind_store
from ..authenticators import bearer_auth
from ..discovery import DiscoveryDocumentCache
from ..providers.provider import Provider
from .authorization_server import ProxyAuthorizationServer
from .cimd import CIMDOptions
from .cimd import ClientDocuments
from .consent import BrowserCookie
from .enterprise import JWT_BEARER
from .enterprise import AssertionVerifier
from .enterprise import EnterpriseIdP
from .grant_options import GrantOptions
from .grants import REGISTERED_AUTH_METHODS
from .keyfiles import key_path
from .keys import SigningKeys
from .limits import OAuthLimits
from .limits import RateLimiter
from .proxy_state import EXTENSION_KEY
from .proxy_state import ProxyAppState
from .proxy_state import ProxyState
from .redirects import RedirectPattern
from .registration import ProxyClientRegistrationEndpoint
from .registration import ProxyRevocationEndpoint
from .resource import ResourceGuard
from .sealing import Sealer
from .server_metadata import oauth_settings
from .server_metadata import server_metadata
from .storage import ProxyStorage
from .tokens import AccessTokenValidator
from .upstream import UpstreamLeg

if t.TYPE_CHECKING:
    from flask_mcp.store import Store

log = logging.getLogger(__name__)


class OAuthProxy:
    """An OAuth 2.1 authorization server for MCP clients in front of an
    upstream identity provider (Google, GitHub, any OIDC issuer...).

    MCP clients register themselves (:rfc:`7591`) or are identified by the
    https URL of their metadata document (Client ID Metadata Documents, see
    ``cimd``), get this server's own tokens, and never see the upstream
    ones; tools get the upstream tokens in their
    :class:`~flask_mcp.auth.providers.provider.OAuthSession`.

    :param provider: the upstream provider.
    :param scopes: scopes clients may ask for (``scopes_supported``); a
        request without ``scope`` gets the client's registered scope, else
        all of these.
    :param redirect_uri_patterns: optional allow-list of redirect URIs, e.g.
        ``["https://app.example.com/*", "http://127.0.0.1:*/callback"]``:
        hosts match exactly, ``*`` stands for any port or a path suffix
        (never one with dot-segments or encoded slashes). Redirect URIs on
        the list are also trusted with error redirects (see below).
    :param registration_token: initial access token required by
        ``/oauth/register`` (:rfc:`7591#section-3`); ``None``:
        ``MCP_OAUTH_REGISTRATION_TOKEN`` from the app config, else open.
        Clients registered with it are trusted with error redirects.
    :param access_token_ttl: seconds an access token lives.
    :param refresh_token_ttl: seconds a refresh token (and so an idle grant)
        lives; every refresh starts a new period.
    :param signing_keys: private JWKs or PEM strings, newest (signing) first;
        ``None``: ``MCP_OAUTH_SIGNING_KEYS`` from the app config, else a key
        generated once in the instance folder.
    :param encryption_key: 32 bytes (or their URL-safe base64) sealing
        upstream tokens in the store; ``None``: ``MCP_OAUTH_ENCRYPTION_KEY``,
        else a key generated once in the instance folder.
    :param limits: bounds on request bodies and registrations, and the
        registration rate (:class:`~.limits.OAuthLimits`); ``None``: the
        ``MCP_OAUTH_*`` keys of the app config, else the defaults.
    :param cimd: Client ID Metadata Documents
        (:class:`~flask_mcp.auth.proxy.CIMDOptions`): a ``client_id`` that
        is an https URL names the client's metadata document, which this
        server fetches (public addresses only, unless
        allow-listed), checks and keeps in the store for the lifetime its
        ``Cache-Control`` gives. On by default. ``None``: the
        ``MCP_OAUTH_CIMD_*`` keys of the app config (``ENABLED``,
        ``ALLOW_HOSTS``, ``MIN_CACHE``, ``MAX_CACHE``, ``TIMEOUT``,
        ``MAX_SIZE``), else the defaults.
    :param refresh_grace: seconds during which a second refresh of one
        refresh token gets the same new pair (two requests in flight);
        ``None``: ``MCP_OAUTH_REFRESH_GRACE``, else 5. See
        :class:`~flask_mcp.auth.proxy.GrantOptions`.
    :param client_credentials: serve the client credentials grant to
        confidential clients registered with ``registration_token``, for the
        scopes they registered; ``None``: ``MCP_OAUTH_CLIENT_CREDENTIALS``,
        else off.
    :param enterprise_idps: enterprise identity providers whose ID-JAGs
        (enterprise-managed authorization) the token endpoint accepts with
        the JWT bearer grant: issuer URLs or
        :class:`~flask_mcp.auth.proxy.EnterpriseIdP`; ``None``:
        ``MCP_OAUTH_ENTERPRISE_IDPS``, else none.

    Error redirects: anyone can register a client with open registration,
    so an authorization request that fails (bad scope, no PKCE...) is
    redirected to the client only if its redirect URI is trusted: on
    ``redirect_uri_patterns``, registered with ``registration_token``, or
    approved (and remembered) on this browser's consent page. Otherwise the
    user sees an error page (:rfc:`9700#section-4.11.2`).

    One proxy per app: several :class:`~flask_mcp.FlaskMCP` servers of an
    app share it (``auth=`` the same object); each endpoint gets its own
    tokens.
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
        limits: OAuthLimits | None = None,
        cimd: CIMDOptions | None = None,
        refresh_grace: float | None = None,
        client_credentials: bool | None = None,
        enterprise_idps: Sequence[EnterpriseIdP | str] | None = None,
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
        self.limits = limits
        self.cimd = cimd
        #: The grant settings given here; the app config fills in the rest.
        self.grant_settings: dict[str, t.Any] = {
            "refresh_grace": refresh_grace,
            "client_credentials": client_credentials,
            "enterprise_idps": enterprise_idps,
        }
        if any(v is not None for v in self.grant_settings.values()):
            GrantOptions.from_config({}, **self.grant_settings)  # checked now

    @property
    def issuer(self) -> str:
        """The issuer identifier: the provider's ``base_url``."""
        return self.provider.base_url.rstrip("/")

    # -- setup -------------------------------------------------------------

    def init_app(
        self, app: Flask, *, store: Store, mcp_path: str, name: str
    ) -> ProxyState:
        """Put the MCP endpoint ``name`` at ``mcp_path`` behind the proxy on
        ``app``; :class:`~flask_mcp.FlaskMCP` calls this.

        The first call on an app sets up the authorization server: its
        ``{name}_oauth`` blueprint, records in ``store``, keys. Keys not
        given are read from ``MCP_OAUTH_SIGNING_KEYS`` /
        ``MCP_OAUTH_ENCRYPTION_KEY``, else generated once in the instance
        folder (every worker and restart then shares them). Later calls (the
        proxy shared by several servers) add an endpoint: its tokens are its
        own (``aud``), and the first server's store keeps every record.

        :returns: the endpoint's state; its ``authenticate`` and
            ``oauth_settings`` are what the FlaskMCP uses.
        :raises RuntimeError: for another proxy on the same app (its routes
            would collide with this one's) or a second endpoint ``name``.
        """
        app_state: ProxyAppState | None = app.extensions.get(EXTENSION_KEY)
        if app_state is None:
            app_state = self._set_up(app, store, name)
        elif app_state.proxy is not self:
            raise RuntimeError(_second_proxy(app_state.issuer, self.issuer))
        if name in app_state.endpoints:
            raise RuntimeError(
                f"an MCP endpoint named {name!r} is already behind the proxy"
            )
        resource = self.issuer + mcp_path
        guard = ResourceGuard(
            provider=self.provider,
            validator=AccessTokenValidator(self.issuer, [resource], app_state.keys),
            storage=app_state.storage,
            upstream=app_state.upstream,
            end_grant=app_state.upstream.end_grant,
        )
        state = ProxyState(
            name=name,
            resource=resource,
            app_state=app_state,
            oauth_settings=oauth_settings(app_state.metadata, resource, self.scopes),
            bearer=bearer_auth(guard.session),
        )
        app_state.resources.append(resource)
        app_state.endpoints[name] = state
        return state

    def _set_up(self, app: Flask, store: Store, name: str) -> ProxyAppState:
        """The authorization server on ``app``, its routes registered."""
        from .views import oauth_blueprint

        issuer = self.issuer
        keys = self._keys(app, name)
        sealer = self._sealer_for(app, name)
        limits = self.limits or OAuthLimits.from_config(app.config)
        cimd = self.cimd or CIMDOptions.from_config(app.config)
        grants = GrantOptions.from_config(app.config, **self.grant_settings)
        registration_token = self.registration_token or app.config.get(
            "MCP_OAUTH_REGISTRATION_TOKEN"
        )
        if grants.client_credentials and not registration_token:
            raise ValueError(
                "client_credentials needs a registration_token: machine clients"
                " get tokens with no user, so only clients registered with it"
                " may use the grant"
            )
        storage = ProxyStorage(store, sealer, refresh_ttl=self.refresh_token_ttl)
        # The provider's discovery document and JWK Set: shared by every worker.
        bind_store(self.provider, store)
        upstream = UpstreamLeg(self.provider, storage)
        resources: list[str] = []
        metadata = server_metadata(
            issuer,
            self.scopes,
            documents=cimd.enabled,
            client_credentials=grants.client_credentials,
            assertions=bool(grants.enterprise_idps),
        )
        client_metadata = dict(metadata, scopes_supported=list(self.scopes))
        assertion_grants = frozenset({JWT_BEARER} if grants.enterprise_idps else ())
        documents = (
            ClientDocuments(
                store=storage.store,
                options=cimd,
                server_metadata=client_metadata,
                patterns=self.redirect_uri_patterns,
                limits=limits,
                grants_without_code=assertion_grants,
            )
            if cimd.enabled
            else None
        )
        assertions = (
            AssertionVerifier(
                grants.enterprise_idps,
                audience=issuer,
                discovery=DiscoveryDocumentCache(store=store, timeout=5.0),
                store=storage.store,
            )
            if grants.enterprise_idps
            else None
        )
        server = ProxyAuthorizationServer(
            issuer=issuer,
            resources=resources,
            scopes=self.scopes,
            storage=storage,
            keys=keys,
            access_token_ttl=self.access_token_ttl,
            end_grant=upstream.end_grant,
            documents=documents,
            refresh_grace=grants.refresh_grace,
            client_credentials=grants.client_credentials,
            assertions=assertions,
            provider=self.provider.name,
        )
        server.register_endpoint(
            ProxyClientRegistrationEndpoint(
                storage=storage,
                metadata=dict(
                    client_metadata,
                    token_endpoint_auth_methods_supported=REGISTERED_AUTH_METHODS,
                ),
                patterns=self.redirect_uri_patterns,
                registration_token=registration_token or None,
                limits=limits,
                grants_without_code=assertion_grants
                | ({"client_credentials"} if grants.client_credentials else set()),
            )
        )
        server.register_endpoint(
            ProxyRevocationEndpoint(
                storage=storage,
                validator=AccessTokenValidator(issuer, resources, keys),
                end_grant=upstream.end_grant,
            )
        )
        app_state = ProxyAppState(
            proxy=self,
            name=name,
            blueprint=f"{name}_oauth",
            issuer=issuer,
            provider=self.provider,
            keys=keys,
            storage=storage,
            server=server,
            upstream=upstream,
            cookie=BrowserCookie(
                name,
                secure=issuer.startswith("https://"),
                key=sealer.derive("browser-cookie"),
            ),
            limits=limits,
            registration_rate=RateLimiter(
                storage.store, limits.registrations, limits.registration_window
            ),
            patterns=self.redirect_uri_patterns,
            documents=documents,
            resources=resources,
            metadata=metadata,
        )
        app.extensions[EXTENSION_KEY] = app_state
        app.register_blueprint(oauth_blueprint(app_state.blueprint))
        return app_state

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


def _second_proxy(existing: str, new: str) -> str:
    same = existing == new
    return (
        f"this app already runs an OAuthProxy"
        f"{' with the same issuer' if same else ''} ({existing}); another one"
        f"{'' if same else f' ({new})'} cannot be added: both would answer"
        " /oauth/authorize, /oauth/token and the other OAuth routes of the app."
        " Pass the same OAuthProxy object as auth= to every FlaskMCP server of"
        " the app (each endpoint then gets its own tokens), or serve the other"
        " server from its own Flask app (werkzeug's DispatcherMiddleware)."
    )


def _warn_generated(app: Flask, kind: str) -> None:
    store_url = app.config.get("MCP_STORE_URL") or ""
    if not store_url.startswith(("file:", "memory:")) and store_url:
        log.warning(
            "OAuthProxy: no %s key configured; using one generated in %s. Every"
            " host needs the same key: configure it when running several hosts.",
            kind,
            app.instance_path,
        )
