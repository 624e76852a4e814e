"""What one :class:`~flask_mcp.FlaskMCP` keeps per app, and how it is built.

:func:`build_state` assembles the parts for one app at ``init_app``: the
settings, the shared store, the OAuth proxy if any, the protocol server and
the endpoint with its guard. The extension only registers what it returns.
"""

from __future__ import annotations

import dataclasses
import secrets
import typing as t
import warnings
from dataclasses import dataclass

from flask import Flask

from .auth.combined import any_of
from .auth.errors import AuthError
from .auth.metadata import OAuthSettings
from .config import Settings
from .protocol.inputs import StateCodec
from .protocol.methods import CachePolicy
from .protocol.server import McpServer
from .store import Store
from .store import StoreUnavailable
from .store import bind_store
from .store import store_from_config
from .store.app_cache import AppCache
from .store.backends import MemoryStoreBackend
from .store.binding import APP_STORE
from .transport.endpoint import Endpoint
from .transport.events import EventLog
from .transport.guard import AuthGate
from .transport.sessions import SessionManager
from .transport.urls import ServerUrls
from .transport.urls import allowing_public_host

if t.TYPE_CHECKING:
    from .auth.authenticators import Authenticator
    from .auth.downstream import DownstreamTokens
    from .auth.proxy import OAuthProxy
    from .components.registry import Registry

_TEN_YEARS = 10 * 365 * 86400


class ServerSpec(t.Protocol):
    """What ``build_state`` reads of a :class:`~flask_mcp.FlaskMCP`: its
    app-independent settings. (A protocol, so this module sits below the
    extension and imports nothing of it.)"""

    path: str | None
    store: Store | None
    blueprint_name: str
    authenticate: Authenticator | None
    oauth: OAuthSettings
    proxy: OAuthProxy | None
    downstream: DownstreamTokens | None
    cache: t.Any
    registry: Registry
    info: dict[str, t.Any]
    instructions: str | None


@dataclass
class MCPState:
    """What one :class:`~flask_mcp.FlaskMCP` keeps per app (extensions["mcp"])."""

    #: The :class:`~flask_mcp.FlaskMCP` this is the state of.
    mcp: ServerSpec
    store: Store
    endpoint: Endpoint
    settings: Settings
    #: The discovery documents this server publishes.
    oauth: OAuthSettings

    @property
    def gate(self) -> AuthGate:
        return self.endpoint.gate

    @property
    def urls(self) -> ServerUrls:
        return self.gate.urls


def build_state(mcp: ServerSpec, app: Flask) -> MCPState:
    """Assemble ``mcp``'s parts for ``app`` (see the module docstring).

    :raises ValueError: for an ``MCP_*`` setting that cannot be used.
    """
    settings = Settings.from_config(app.config, path=mcp.path)
    store = mcp.store or store_from_config(
        app.config, app.instance_path, f"mcp:{mcp.blueprint_name}:"
    )
    _check_store(store)
    # Entries that may be lost go to the app's Flask-Caching cache, if any;
    # caches FlaskMCP cannot reach bind themselves to this store on first use.
    store.cache = AppCache(store, mcp.cache)
    app.extensions.setdefault(APP_STORE, store)
    authenticate, oauth = mcp.authenticate, mcp.oauth
    bind_store(authenticate, store)
    if mcp.downstream is not None:
        mcp.downstream.init_app(app, store, mcp.blueprint_name)
    if mcp.proxy is not None:
        proxy = mcp.proxy.init_app(
            app, store=store, mcp_path=settings.path, name=mcp.blueprint_name
        )
        oauth = proxy.oauth_settings
        # The proxy's tokens first, then the other ways in (API keys...).
        authenticate = (
            proxy.authenticate
            if authenticate is None
            else any_of(("oauth", proxy.authenticate), authenticate)
        )
        # The proxy's base_url is this app's public URL: its host is allowed.
        settings = dataclasses.replace(
            settings,
            allowed_hosts=allowing_public_host(
                settings.allowed_hosts, mcp.proxy.issuer
            ),
        )
    server = McpServer(
        mcp.registry,
        info=mcp.info,
        instructions=mcp.instructions,
        page_size=settings.page_size,
        request_timeout=settings.request_timeout,
        mask_errors=settings.mask_errors,
        codec=StateCodec(_state_secret(app, store), settings.request_state_ttl),
        passthrough=(AuthError, StoreUnavailable),
        cache=CachePolicy(
            list_ttl_ms=settings.cache_list_ttl_ms,
            read_ttl_ms=settings.cache_read_ttl_ms,
            # Lists may vary with the caller when requests are authenticated.
            scope=settings.cache_scope
            or ("private" if authenticate is not None else "public"),
        ),
    )
    endpoint = Endpoint(
        server,
        store,
        settings,
        SessionManager(store, settings.session_ttl),
        EventLog(store, settings.event_ttl),
        AuthGate(
            authenticate, oauth, ServerUrls(settings.path), settings.auth_challenge
        ),
    )
    return MCPState(mcp, store, endpoint, settings, oauth)


def _state_secret(app: Flask, store: Store) -> t.Callable[[], bytes]:
    """The secret sealing ``requestState``: ``SECRET_KEY``, else one key made
    once and kept in the shared store (so every worker and host agrees)."""

    kept: list[bytes] = []  # read from the store once per process

    def secret() -> bytes:
        configured = app.config.get("SECRET_KEY")
        if configured:
            return (
                configured.encode()
                if isinstance(configured, str)
                else bytes(configured)
            )
        if not kept:
            store.add("request-state-key", secrets.token_hex(32), _TEN_YEARS)
            value = store.get("request-state-key")
            if not isinstance(value, str):  # gone again at once: ask next time
                raise StoreUnavailable("the requestState key could not be kept")
            kept.append(value.encode())
        return kept[0]

    return secret


def _check_store(store: Store) -> None:
    if isinstance(store.backend, MemoryStoreBackend):
        warnings.warn(
            "flask_mcp is using an in-process store: state is kept in one process"
            " and gunicorn workers will not share sessions. Use the default file"
            " store or MCP_STORE_URL=redis://...",
            stacklevel=4,
        )
