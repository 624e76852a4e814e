"""A gateway for one MCP server, set up at ``init_app`` when configured.

:func:`attach` reads the ``MCP_GRIP_*`` settings, puts a
:class:`~.holder.GatewayHolder` in front of the endpoint's holder, forwards
every bus publication and every 2025 session event to the gateway, and adds
the view that serves the gateway's next-link requests.
"""

from __future__ import annotations

import random
import secrets
import typing as t
from dataclasses import dataclass

from flask import Blueprint
from flask import Flask
from flask import request
from gripcontrol import parse_grip_uri
from werkzeug.wrappers import Response

from ..store import Store
from ..store import StoreUnavailable
from ..transport.bus import resource_channel
from ..transport.endpoint import Endpoint
from ..transport.responses import HTTPError
from ..transport.responses import unavailable
from ..transport.sessions import SessionManager
from .channels import Channels
from .channels import check_server_name
from .held import GripGateway
from .holder import GatewayHolder
from .publisher import Publisher
from .records import HoldRecords
from .relay import Relay
from .signature import GripSignature

#: The next-link view, under the endpoint's path.
NEXT_PART = ".grip/next"
_TEN_YEARS = 10 * 365 * 86400


@dataclass(frozen=True)
class GripSettings:
    """The ``MCP_GRIP_*`` settings of one app."""

    #: ``gripcontrol`` publishing configuration (``control_uri``...).
    control: dict[str, t.Any]
    key: str | bytes
    issuer: str | None
    hold: float
    #: Longest pause between two of a held stream's next parts (it keeps a
    #: 2025 session alive, as the worker's GET loop does, notices its end,
    #: and renews its fair-share slots).
    refresh_max: float = 60.0

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> GripSettings:
        """:raises ValueError: naming the setting that cannot be used."""
        url = config.get("MCP_GRIP_URL")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"MCP_GRIP_URL must be an http(s) URL, not {url!r}")
        parsed = parse_grip_uri(url)
        key = (
            config.get("MCP_GRIP_KEY")
            or parsed.pop("verify_key", None)
            or parsed.get("key")
        )
        if not key:
            raise ValueError(
                "MCP_GRIP_KEY is required with MCP_GRIP_URL: the key the gateway"
                " signs Grip-Sig with (Pushpin's sig_key)"
            )
        issuer = parsed.pop("verify_iss", None)
        hold = _seconds(config, "MCP_GRIP_HOLD", 3600.0)
        refresh = _seconds(config, "MCP_GRIP_REFRESH", 60.0)
        return cls(parsed, key, issuer, hold, refresh)

    @property
    def refresh(self) -> int:
        return max(1, int(min(self.refresh_max, self.hold)))


def _seconds(config: t.Mapping[str, t.Any], name: str, default: float) -> float:
    """:raises ValueError: unless the setting is a number of seconds >= 1."""
    try:
        value = float(config.get(name, default))
    except (TypeError, ValueError):
        value = -1.0
    if not value >= 1:  # NaN too
        raise ValueError(f"{name} must be at least 1, not {config.get(name)!r}")
    return value


def attach(app: Flask, endpoint: Endpoint, name: str) -> GripGateway:
    """Put a gateway in front of ``endpoint``, the MCP server ``name`` of
    ``app`` (see the module docstring).

    :raises ValueError: for a setting that cannot be used.
    """
    settings = GripSettings.from_config(app.config)
    check_server_name(name)
    store, path = endpoint.store, endpoint.settings.path
    publisher = Publisher(settings.control)
    records = HoldRecords(store)
    channels = Channels(lambda: _prefix(store, name))
    gateway = GripGateway(
        signature=GripSignature(settings.key, settings.issuer),
        channels=channels,
        records=records,
        fair=endpoint.holder.fair,
        bus=endpoint.bus,
        session_channels=_session_channels(endpoint.sessions),
        hold=settings.hold,
        refresh=lambda: random.randint(
            max(1, settings.refresh * 4 // 5), settings.refresh
        ),
        next_link=_link(path),
    )
    relay = Relay(channels, publisher, records)
    holder = GatewayHolder(gateway, publisher, endpoint.holder)
    endpoint.use_holder(holder)
    endpoint.bus.observers.append(relay.published)
    endpoint.sessions.on_end.append(relay.session_ended)
    app.register_blueprint(
        _next_part_blueprint(f"{name}_gateway", path.rstrip("/"), gateway)
    )
    app.before_request(_client_address(gateway))
    app.extensions.setdefault("mcp_gateway", {})[name] = relay
    return gateway


def _prefix(store: Store, name: str) -> str:
    """``<blueprint name>.<random>.``, the random part made once and kept in
    the store: every worker and host of a deployment agrees, and two
    deployments sharing a gateway (not a store) keep apart."""
    store.add("grip:prefix", secrets.token_hex(4), _TEN_YEARS)
    return f"{name}.{store.get('grip:prefix')}."  # see check_server_name


def _link(path: str) -> str:
    """The next-link URL relative to the endpoint's (the gateway resolves it
    against the URL the client used, prefix and all)."""
    if path.endswith("/"):
        return NEXT_PART
    return path.rsplit("/", 1)[-1] + "/" + NEXT_PART


def _session_channels(
    sessions: SessionManager,
) -> t.Callable[[str, str | None, frozenset[str]], frozenset[str] | None]:
    def channels(
        session_id: str, principal: str | None, before: frozenset[str]
    ) -> frozenset[str] | None:
        session = sessions.load(session_id)  # also keeps it alive
        if session is None or session.principal != principal:
            return None
        kept = {c for c in before if not c.startswith("resource:")}
        return frozenset(kept | {resource_channel(u) for u in session.subscriptions})

    return channels


def _client_address(gateway: GripGateway) -> t.Callable[[], None]:
    """Behind the gateway every request comes from its address: on a request
    it signed, the client's is the last ``X-Forwarded-For`` entry (the one the
    gateway added), so per-address limits count clients, not the gateway."""

    def trust_gateway() -> None:
        environ = request.environ
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded and gateway.signed(environ):
            address = forwarded.rsplit(",", 1)[-1].strip()
            if address:
                environ.setdefault("mcp.gateway_address", environ.get("REMOTE_ADDR"))
                environ["REMOTE_ADDR"] = request.remote_addr = address

    return trust_gateway


def _next_part_blueprint(name: str, path: str, gateway: GripGateway) -> Blueprint:
    bp = Blueprint(name, __name__)

    def next_part() -> Response:
        try:
            return gateway.next_part(request.environ)
        except HTTPError as exc:
            return exc.response()
        except StoreUnavailable:
            return unavailable().response()

    bp.add_url_rule(f"{path}/{NEXT_PART}", "next_part", next_part, methods=["GET"])
    return bp
