"""The :class:`FlaskMCP` extension object."""

from __future__ import annotations

import functools
import typing as t
import warnings
from dataclasses import dataclass

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import g
from flask import has_app_context
from flask import request

from .auth.errors import AuthError
from .auth.errors import Forbidden
from .auth.errors import Unauthorized
from .auth.metadata import OAuthSettings
from .components.arguments import HintArguments
from .components.arguments import JsonSchemaArguments
from .components.arguments import MarshmallowArguments
from .components.arguments import output_schema
from .components.handlers import AccessCheck
from .components.handlers import describe
from .components.handlers import validate_name
from .components.prompts import Prompt
from .components.registry import Completer
from .components.registry import Registry
from .components.resources import Resource
from .components.resources import ResourceTemplate
from .components.tools import Tool
from .components.tools import tool_annotations
from .config import DEFAULTS
from .protocol.server import McpServer
from .store import Store
from .store import create_store
from .store.backends import MemoryStoreBackend
from .transport.endpoint import Endpoint
from .transport.endpoint import Settings
from .transport.endpoint import json_response
from .transport.events import EventLog
from .transport.guard import Authenticate
from .transport.guard import AuthGate
from .transport.sessions import SessionManager
from .transport.well_known import well_known_blueprint

if t.TYPE_CHECKING:
    from .auth.providers.base import Provider
    from .auth.proxy import OAuthProxy

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


@dataclass
class MCPState:
    """What one :class:`FlaskMCP` keeps per app, in ``app.extensions["mcp"]``."""

    mcp: FlaskMCP
    store: Store
    endpoint: Endpoint


class FlaskMCP:
    """An MCP server living in a Flask app.

    :param app: the app, or ``None`` to call :meth:`init_app` later.
    :param name: server name sent to clients; also names the blueprint.
    :param version: server version sent to clients.
    :param instructions: how a model should use this server.
    :param path: the endpoint's URL rule; defaults to ``MCP_PATH``.
    :param store: a ready :class:`~flask_mcp.store.Store`; defaults to the
        one ``MCP_STORE_URL`` describes.
    :param authenticate: ``fn(request)`` returning the auth session of each
        HTTP request (``None`` refuses it with 401).
    :param oauth: discovery documents to publish (``enabled``,
        ``authorization_server``, ``protected_resource``; snake or camel case).
    :param auth: an upstream provider (``GoogleProvider(...)``, ...) or an
        :class:`~flask_mcp.auth.proxy.OAuthProxy`: this app then runs an OAuth
        authorization server for MCP clients in front of that provider.
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
        blueprint_name: str | None = None,
        authenticate: Authenticate | None = None,
        oauth: t.Mapping[str, t.Any] | OAuthSettings | None = None,
        auth: Provider | OAuthProxy | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.instructions = instructions
        self.path = path
        self.blueprint_name = blueprint_name or "mcp"
        self.registry = Registry()
        self._store = store
        if auth is not None and (authenticate is not None or oauth is not None):
            raise TypeError("give either auth= or authenticate=/oauth=, not both")
        self.proxy = _as_proxy(auth)
        self.authenticate = authenticate
        self.oauth = OAuthSettings.from_config(oauth)
        self._routes: list[tuple[str, t.Callable[..., t.Any], dict[str, t.Any]]] = []
        self._initialized = False
        if app is not None:
            self.init_app(app)

    # -- setup -------------------------------------------------------------

    def init_app(self, app: Flask) -> None:
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        states: dict[str, MCPState] = app.extensions.setdefault("mcp", {})
        if self.blueprint_name in states:
            raise RuntimeError(
                f"a FlaskMCP named {self.blueprint_name!r} is already on this app;"
                " pass blueprint_name= to add another"
            )
        config = app.config
        path = self.path or config["MCP_PATH"]
        store = self._store or create_store(
            config["MCP_STORE_URL"], app.instance_path, f"mcp:{self.blueprint_name}:"
        )
        _check_store(store)
        authenticate, oauth = self.authenticate, self.oauth
        if self.proxy is not None:
            proxy = self.proxy.init_app(
                app, store=store, mcp_path=path, name=self.blueprint_name
            )
            authenticate, oauth = proxy.authenticate, proxy.oauth_settings
        server = McpServer(
            self.registry,
            name=self.name,
            version=self.version,
            instructions=self.instructions,
            page_size=int(config["MCP_PAGE_SIZE"]),
            request_timeout=float(config["MCP_REQUEST_TIMEOUT"]),
            mask_errors=bool(config["MCP_MASK_ERRORS"]),
        )
        settings = Settings(
            allowed_hosts=config["MCP_ALLOWED_HOSTS"],
            allowed_origins=config["MCP_ALLOWED_ORIGINS"],
            max_body=int(config["MCP_MAX_BODY"]),
            stateless=bool(config["MCP_STATELESS"]),
            stream_hold=float(config["MCP_STREAM_HOLD"]),
            retry_ms=int(config["MCP_SSE_RETRY_MS"]),
            request_timeout=float(config["MCP_REQUEST_TIMEOUT"]),
        )
        endpoint = Endpoint(
            server,
            store,
            settings,
            SessionManager(store, float(config["MCP_SESSION_TTL"])),
            EventLog(store, float(config["MCP_EVENT_TTL"])),
            AuthGate(authenticate, oauth),
        )
        states[self.blueprint_name] = MCPState(self, store, endpoint)
        self._initialized = True
        app.register_blueprint(self._blueprint(path))
        if oauth.enabled:
            app.register_blueprint(
                well_known_blueprint(f"{self.blueprint_name}_well_known", oauth, path)
            )
        from .cli import mcp_cli

        if "mcp" not in app.cli.commands:
            app.cli.add_command(mcp_cli)

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
            methods=["GET", "POST", "DELETE", "PUT", "PATCH"],
            provide_automatic_options=True,
        )
        for rule, view, options in self._routes:
            bp.add_url_rule(rule, view_func=view, **options)
        return bp

    def state(self, app: Flask | None = None) -> MCPState:
        """This server's per-app state (the current app by default)."""
        return (app or current_app).extensions["mcp"][self.blueprint_name]

    # -- registration ------------------------------------------------------

    def tool(
        self,
        name: str | None = None,
        *,
        description: str | None = None,
        title: str | None = None,
        schema: t.Any = None,
        input_schema: dict[str, t.Any] | None = None,
        output_schema: dict[str, t.Any] | None = None,
        can_access: AccessCheck | None = None,
        step_up: bool = False,
        read_only: bool | None = None,
        destructive: bool | None = None,
        idempotent: bool | None = None,
        open_world: bool | None = None,
        meta: dict[str, t.Any] | None = None,
    ) -> t.Callable[[F], F]:
        """Register a function as a tool.

        Arguments come from the type hints, or from a marshmallow ``schema``,
        or from a JSON Schema ``input_schema`` published exactly as given.
        """

        def decorator(fn: F) -> F:
            tool = Tool(
                name=validate_name(name or fn.__name__, "tool"),
                fn=fn,
                description=description or describe(fn),
                title=title,
                can_access=can_access,
                meta=meta,
                step_up=step_up,
                annotations=tool_annotations(
                    title=title,
                    read_only=read_only,
                    destructive=destructive,
                    idempotent=idempotent,
                    open_world=open_world,
                ),
            )
            exclude = {tool.context_param} if tool.context_param else set()
            if input_schema is not None:
                tool.arguments = JsonSchemaArguments(input_schema)
            elif schema is not None:
                tool.arguments = MarshmallowArguments(schema)
            else:
                tool.arguments = HintArguments(fn, exclude=exclude)
            tool.output_schema = output_schema or output_schema_of(fn)
            self.registry.tools[tool.name] = tool
            self._list_changed("tools")
            return fn

        return decorator

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        description: str | None = None,
        title: str | None = None,
        mime_type: str | None = None,
        can_access: AccessCheck | None = None,
        meta: dict[str, t.Any] | None = None,
    ) -> t.Callable[[F], F]:
        """Register a resource; a URI with ``{variables}`` makes a template."""

        def decorator(fn: F) -> F:
            cls: type[Resource] = ResourceTemplate if "{" in uri else Resource
            item = cls(
                name=name or fn.__name__,
                fn=fn,
                description=description or describe(fn),
                title=title,
                can_access=can_access,
                meta=meta,
                uri=uri,
                mime_type=mime_type,
            )
            if isinstance(item, ResourceTemplate):
                self.registry.templates[uri] = item
            else:
                self.registry.resources[uri] = item
            self._list_changed("resources")
            return fn

        return decorator

    def prompt(
        self,
        name: str | None = None,
        *,
        description: str | None = None,
        title: str | None = None,
        can_access: AccessCheck | None = None,
        meta: dict[str, t.Any] | None = None,
    ) -> t.Callable[[F], F]:
        """Register a prompt; its string parameters are the prompt's arguments."""

        def decorator(fn: F) -> F:
            prompt = Prompt(
                name=validate_name(name or fn.__name__, "prompt"),
                fn=fn,
                description=description or describe(fn),
                title=title,
                can_access=can_access,
                meta=meta,
            )
            self.registry.prompts[prompt.name] = prompt
            self._list_changed("prompts")
            return fn

        return decorator

    def completion(
        self, *, argument: str, prompt: str | None = None, resource: str | None = None
    ) -> t.Callable[[Completer], Completer]:
        """Register suggestions for one argument of a prompt or resource template."""
        if (prompt is None) == (resource is None):
            raise TypeError("give exactly one of prompt= or resource=")
        key = (
            ("ref/prompt", prompt) if prompt is not None else ("ref/resource", resource)
        )

        def decorator(fn: Completer) -> Completer:
            self.registry.completers[(key[0], t.cast(str, key[1]), argument)] = fn
            return fn

        return decorator

    # -- protected custom routes -----------------------------------------

    def protected(
        self, view: F | None = None, *, can_access: AccessCheck | None = None
    ) -> t.Any:
        """Guard any Flask view with this server's ``authenticate`` and a check.

        The auth session is in ``flask.g.mcp_auth``; refusals are 401/403 with
        the same ``WWW-Authenticate`` challenge as the MCP endpoint.
        """

        def decorator(fn: F) -> F:
            @functools.wraps(fn)
            def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
                endpoint = self.state().endpoint
                resource_url = (
                    request.host_url.rstrip("/") + request.script_root + self._path()
                )
                try:
                    auth = endpoint.gate.authenticate(request)
                    if auth is None:  # no ``authenticate`` configured: nobody gets in
                        raise Unauthorized()
                    if can_access is not None and not can_access(auth):
                        raise Forbidden(
                            "access denied",
                            scopes=getattr(can_access, "required_scopes", ()),
                        )
                except AuthError as exc:
                    headers = endpoint.gate.challenge_headers(exc, resource_url)
                    return json_response(exc.to_dict(), exc.status_code, headers)
                g.mcp_auth = auth
                return fn(*args, **kwargs)

            return t.cast(F, wrapper)

        return decorator(view) if view is not None else decorator

    def route(
        self,
        rule: str,
        *,
        public: bool = False,
        can_access: AccessCheck | None = None,
        **options: t.Any,
    ) -> t.Callable[[F], F]:
        """Add a route to this server's blueprint, authenticated unless ``public``."""

        if self._initialized:
            raise RuntimeError(
                "mcp.route() must come before init_app(); afterwards use"
                " @app.route() with @mcp.protected"
            )

        def decorator(fn: F) -> F:
            view = fn if public else self.protected(fn, can_access=can_access)
            self._routes.append((rule, view, options))
            return fn

        return decorator

    def _path(self) -> str:
        return self.path or current_app.config["MCP_PATH"]

    def remove_tool(self, name: str) -> None:
        """Stop offering a tool; live sessions are told the list changed."""
        if self.registry.tools.pop(name, None) is not None:
            self._list_changed("tools")

    def _list_changed(self, kind: str) -> None:
        """Changes made while an app serves this server reach its sessions.

        Registrations at import time (no app context) have no one to tell.
        Each worker holds its own registry: make runtime changes in every
        worker (from a shared source), and notify from one.
        """
        if has_app_context() and self.blueprint_name in current_app.extensions.get(
            "mcp", {}
        ):
            self.notify_list_changed(kind)

    # -- server-initiated messages ----------------------------------------

    def notify_resource_updated(self, uri: str) -> None:
        """Tell every session subscribed to ``uri`` that it changed."""
        endpoint = self.state().endpoint
        for session_id in endpoint.sessions.subscribers(uri):
            endpoint.send_to_session(
                session_id, "notifications/resources/updated", {"uri": uri}
            )

    def notify_list_changed(self, kind: str = "tools") -> None:
        """Tell every live session that the ``kind`` list (tools, ...) changed."""
        if kind not in {"tools", "resources", "prompts"}:
            raise ValueError(f"unknown list {kind!r}")
        endpoint = self.state().endpoint
        for session_id in endpoint.sessions.live_ids():
            endpoint.send_to_session(
                session_id, f"notifications/{kind}/list_changed", {}
            )


def output_schema_of(fn: t.Callable[..., t.Any]) -> dict[str, t.Any] | None:
    """The ``outputSchema`` a return annotation implies, if it is structured."""
    try:
        annotation = t.get_type_hints(fn).get("return")
        return output_schema(annotation) if annotation is not None else None
    except (NameError, TypeError):  # unresolvable or not representable
        return None


def _as_proxy(auth: Provider | OAuthProxy | None) -> OAuthProxy | None:
    """The OAuth proxy for ``auth=``; imported only by apps that use one."""
    if auth is None:
        return None
    from .auth.proxy import OAuthProxy

    return auth if isinstance(auth, OAuthProxy) else OAuthProxy(auth)


def _check_store(store: Store) -> None:
    if isinstance(store.backend, MemoryStoreBackend):
        warnings.warn(
            "flask_mcp is using an in-process store: state is kept in one process"
            " and gunicorn workers will not share sessions. Use the default file"
            " store or MCP_STORE_URL=redis://...",
            stacklevel=3,
        )
