"""The :class:`FlaskMCP` extension object: the Flask side of a server.

It records what decorators declare, and at :meth:`FlaskMCP.init_app` builds
the per-app state (store, protocol server, endpoint, guard) and registers the
blueprints. Components are built by their own ``from_function``
constructors; requests are served by :mod:`flask_mcp.transport`.
"""

from __future__ import annotations

import typing as t
import weakref
from collections import abc

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import has_app_context
from flask import request
from werkzeug.exceptions import BadHost

from .auth.authenticators import Authenticator
from .auth.metadata import OAuthSettings
from .components.component import Component
from .components.component import check_access
from .components.component import icon_tuple
from .components.content import Icon
from .components.registry import Kind
from .config import DEFAULTS
from .ops import init_ops
from .ops import limit_tools
from .protocol.server import implementation
from .scaffold import Scaffold
from .state import MCPState
from .state import build_state
from .store import Store
from .transport.guard import guarded
from .transport.responses import json_response
from .transport.well_known import well_known_blueprint

if t.TYPE_CHECKING:
    from .auth.downstream import DownstreamTokens
    from .auth.providers.provider import Provider
    from .auth.proxy import OAuthProxy
    from .testing import MCPTestClient

F = t.TypeVar("F", bound=t.Callable[..., t.Any])
IconsArg = t.Iterable[Icon | abc.Mapping[str, t.Any]] | None


class FlaskMCP(Scaffold):
    """An MCP server living in a Flask app.

    :param app: the app, or ``None`` to call :meth:`init_app` later.
    :param name: the server name clients see in ``serverInfo``.
    :param version: the server version clients see.
    :param instructions: how a model should use this server.
    :param path: the endpoint's URL rule; defaults to ``MCP_PATH``.
    :param store: a ready :class:`~flask_mcp.store.Store`; defaults to the
        one ``MCP_STORE_URL`` describes.
    :param cache: a Flask-Caching ``Cache`` for what may be lost (discovery
        documents, key sets, introspection answers); defaults to the app's
        one if Flask-Caching has exactly one on it, else the store (see
        :doc:`/deployment`).
    :param blueprint_name: names this server's blueprint and its entry in
        ``app.extensions["mcp"]``; give each server on one app its own.
    :param authenticate: ``fn(request)`` returning the auth session of each
        HTTP request (``None`` refuses it with 401); may be ``async def``. A
        list of them lets requests in several ways
        (:func:`~flask_mcp.auth.any_of`); next to ``auth=``, they are tried
        after the proxy's own tokens.
    :param oauth: discovery documents to publish (``enabled``,
        ``authorization_server``, ``protected_resource``; snake or camel case).
    :param auth: an upstream provider (``GoogleProvider(...)``, ...) or an
        :class:`~flask_mcp.auth.proxy.OAuthProxy`: this app then runs an OAuth
        authorization server for MCP clients in front of that provider.
    :param title: a display name for the server.
    :param description: what the server offers, for people choosing one.
    :param website_url: the server's home page.
    :param icons: icons clients may show for the server.
    :param downstream: the :class:`~flask_mcp.auth.DownstreamTokens` tools
        use to call other APIs on the user's behalf; ``init_app`` gives it
        the store and the encryption key.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        name: str = "flask-mcp",
        version: str = "0.1.0",
        instructions: str | None = None,
        path: str | None = None,
        store: Store | None = None,
        cache: t.Any = None,
        blueprint_name: str | None = None,
        authenticate: Authenticator | t.Sequence[Authenticator] | None = None,
        oauth: t.Mapping[str, t.Any] | OAuthSettings | None = None,
        auth: Provider | OAuthProxy | None = None,
        title: str | None = None,
        description: str | None = None,
        website_url: str | None = None,
        icons: IconsArg = None,
        downstream: DownstreamTokens | None = None,
    ) -> None:
        if auth is not None and oauth is not None:
            raise TypeError(
                "give either auth= (which publishes its own discovery documents)"
                " or oauth=, not both"
            )
        authenticate = _one_authenticate(authenticate)
        self.name = name
        self.version = version
        self.instructions = instructions
        self.path = path
        self.blueprint_name = blueprint_name or "mcp"
        self.info = implementation(
            name,
            version,
            title=title,
            description=description,
            website_url=website_url,
            icons=[icon.to_dict() for icon in icon_tuple(icons)],
        )
        super().__init__()
        #: The store given to the constructor, if any.
        self.store = store
        #: The Flask-Caching ``Cache`` given to the constructor, if any.
        self.cache = cache
        self.proxy = _as_proxy(auth)
        self.authenticate = authenticate
        self.oauth = OAuthSettings.from_config(oauth)
        self.downstream = downstream
        self._routes: list[tuple[str, t.Callable[..., t.Any], dict[str, t.Any]]] = []
        # Apps set up so far, so that @mcp.route after init_app reaches them;
        # weak, so the extension never keeps an app alive.
        self._apps: weakref.WeakSet[Flask] = weakref.WeakSet()
        if app is not None:
            self.init_app(app)

    # -- setup -------------------------------------------------------------

    def init_app(self, app: Flask) -> None:
        """Set this server up on ``app``: config defaults, state, blueprints, CLI.

        :raises RuntimeError: if a server with this ``blueprint_name`` is
            already on ``app``.
        :raises ValueError: for an ``MCP_*`` setting that cannot be used.
        """
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        states: dict[str, MCPState] = app.extensions.setdefault("mcp", {})
        if self.blueprint_name in states:
            raise RuntimeError(
                f"a FlaskMCP named {self.blueprint_name!r} is already on this app;"
                " pass blueprint_name= to add another"
            )
        state = states[self.blueprint_name] = build_state(self, app)
        settings, oauth = state.settings, state.oauth
        if app.config.get("MCP_GRIP_URL"):  # a stream gateway (issue 14)
            from .gateway.wiring import attach

            attach(app, state.endpoint, self.blueprint_name)
        app.register_blueprint(self._blueprint(settings.path))
        if oauth.enabled:
            app.register_blueprint(
                well_known_blueprint(
                    f"{self.blueprint_name}_well_known", oauth, state.urls, settings
                )
            )
        if BadHost not in app.error_handler_spec[None].get(400, {}):
            app.register_error_handler(BadHost, _bad_host)
        init_ops(app, state)
        from .cli import mcp_cli

        if "mcp" not in app.cli.commands:
            app.cli.add_command(mcp_cli)
        self._apps.add(app)

    def _blueprint(self, path: str) -> Blueprint:
        bp = Blueprint(self.blueprint_name, __name__)
        name = self.blueprint_name

        def endpoint() -> t.Any:
            state = current_app.extensions["mcp"][name]
            return state.endpoint.dispatch(request._get_current_object())  # type: ignore[attr-defined]

        bp.add_url_rule(
            path,
            "endpoint",
            endpoint,
            # Every method reaches the endpoint, so each gets a JSON answer.
            methods=["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"],
            provide_automatic_options=False,
        )
        for rule, view, options in self._routes:
            bp.add_url_rule(rule, view_func=view, **options)
        return bp

    def state(self, app: Flask | None = None) -> MCPState:
        """This server's per-app state (the current app by default)."""
        target = app or current_app
        try:
            return t.cast(MCPState, target.extensions["mcp"][self.blueprint_name])
        except KeyError:
            raise RuntimeError(
                f"FlaskMCP {self.blueprint_name!r} is not set up on app"
                f" {target.name!r}; call init_app(app) first"
            ) from None

    def add(self, component: Component, *, replace: bool = False) -> None:
        super().add(component, replace=replace)
        # A rate-limited tool added after init_app: its app needs the limits.
        if getattr(component, "rate_limit", None):
            for app in self._apps:
                limit_tools(app, self.state(app))

    # -- protected custom routes -----------------------------------------

    def protected(self, view: F | None = None, *, can_access: t.Any = None) -> t.Any:
        """Guard any Flask view with this server's ``authenticate`` and a check.

        The auth session is in ``flask.g.mcp_auth``; refusals are 401/403 with
        the same ``WWW-Authenticate`` challenge as the MCP endpoint.
        """
        check = check_access(can_access, "a protected route")

        def decorator(fn: F) -> F:
            return t.cast(F, guarded(fn, lambda: self.state().gate, check))

        return decorator(view) if view is not None else decorator

    def route(
        self,
        rule: str,
        *,
        public: bool = False,
        can_access: t.Any = None,
        **options: t.Any,
    ) -> t.Callable[[F], F]:
        """Add a route to this server's blueprint, authenticated unless ``public``.

        Works before and after :meth:`init_app`; its endpoint is
        ``"<blueprint_name>.<function name>"`` either way.
        """

        def decorator(fn: F) -> F:
            view = fn if public else self.protected(fn, can_access=can_access)
            self._routes.append((rule, view, options))
            for app in self._apps:
                endpoint = options.get("endpoint", fn.__name__)
                app.add_url_rule(
                    rule,
                    endpoint=f"{self.blueprint_name}.{endpoint}",
                    view_func=view,
                    **{k: v for k, v in options.items() if k != "endpoint"},
                )
            return fn

        return decorator

    # -- server-initiated messages ----------------------------------------

    def _list_changed(self, kind: Kind) -> None:
        """Changes made while an app serves this server reach its sessions.

        Registrations at import time (no app context) have no one to tell.
        Each worker holds its own registry: make runtime changes in every
        worker (from a shared source), and notify from one.
        """
        if has_app_context() and self.blueprint_name in current_app.extensions.get(
            "mcp", {}
        ):
            self.notify_list_changed(kind)

    def notify_resource_updated(self, uri: str) -> None:
        """Tell every client subscribed to ``uri`` that it changed."""
        self.state().endpoint.notify_resource_updated(uri)

    def notify_elicitation_complete(self, elicitation_id: str, session_id: str) -> None:
        """Tell a 2025-11-25 session that the URL elicitation ``elicitation_id``
        (see :meth:`Context.elicit_url <flask_mcp.Context.elicit_url>`) is
        done, so the client can retry what waited for it."""
        self.state().endpoint.send_to_session(
            session_id,
            "notifications/elicitation/complete",
            {"elicitationId": elicitation_id},
        )

    def notify_list_changed(self, kind: str = "tools") -> None:
        """Tell every client listening that the ``kind`` list (tools, ...) changed."""
        if kind not in {"tools", "resources", "prompts"}:
            raise ValueError(f"unknown list {kind!r}")
        self.state().endpoint.notify_list_changed(kind)

    # -- testing -----------------------------------------------------------

    def test_client(
        self,
        app: Flask | None = None,
        headers: t.Mapping[str, str] | None = None,
        **options: t.Any,
    ) -> MCPTestClient:
        """An in-process MCP client for tests (see :mod:`flask_mcp.testing`).

        ``options``: ``protocol_version``, and ``sampling``, ``elicitation``
        and ``roots`` to answer the server's questions.
        """
        from .testing import MCPTestClient

        target = app or t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
        return MCPTestClient(self, target, headers=headers, **options)


def _bad_host(error: BadHost) -> t.Any:
    """A ``Host`` werkzeug cannot route fails before any view: on an MCP
    endpoint it still gets a JSON-RPC answer; elsewhere Flask's own page."""
    paths = {state.settings.path for state in current_app.extensions["mcp"].values()}
    if request.path not in paths:
        return error
    body = {
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": "Bad Request: invalid Host header"},
    }
    return json_response(body, 400)


def _one_authenticate(
    value: Authenticator | abc.Sequence[Authenticator] | None,
) -> Authenticator | None:
    """``authenticate=`` as one function; a list becomes ``any_of(...)``."""
    if value is None or (callable(value) and not isinstance(value, abc.Sequence)):
        return value
    if isinstance(value, abc.Sequence) and not isinstance(value, (str, bytes)):
        from .auth.combined import any_of

        try:
            return any_of(*value)
        except ValueError as error:
            raise TypeError(f"authenticate: {error}") from None
    raise TypeError(f"authenticate must be a function of the request, not {value!r}")


def _as_proxy(auth: Provider | OAuthProxy | None) -> OAuthProxy | None:
    """The OAuth proxy for ``auth=``; imported only by apps that use one."""
    if auth is None:
        return None
    from .auth.proxy import OAuthProxy

    return auth if isinstance(auth, OAuthProxy) else OAuthProxy(auth)
