"""``/healthz`` and ``/readyz``: for load balancers and orchestrators.

``/healthz`` (liveness) answers as soon as the worker can run a view: it
touches nothing else, so a store outage never makes an orchestrator restart
healthy workers. ``/readyz`` (readiness) answers 200 only when every server
of the app can work: its store takes a write (a read-only replica left by a
failover does not), its ``requestState`` key is at hand, and the OAuth
proxy, if any, has its signing key. Otherwise 503 with ``Retry-After`` and
what failed.

Both are cheap (one store write at most), need no credentials, skip the
Host check (probes come by address) and appear in no discovery document.
"""

from __future__ import annotations

import logging
import time
import typing as t

from flask import Flask
from flask import current_app
from werkzeug.wrappers import Response

from ..store import StoreError
from ..transport.responses import RETRY_AFTER
from ..transport.responses import json_response

if t.TYPE_CHECKING:
    from ..state import MCPState


log = logging.getLogger(__name__)

#: Seconds the readiness probe's store entry lives.
_PROBE_TTL = 30


def register_probes(app: Flask, health: str | None, ready: str | None) -> None:
    """Add the probes to ``app`` (once, however many servers it has)."""
    if health and "mcp_healthz" not in app.view_functions:
        app.add_url_rule(health, "mcp_healthz", healthz, methods=["GET"])
    if ready and "mcp_readyz" not in app.view_functions:
        app.add_url_rule(ready, "mcp_readyz", readyz, methods=["GET"])


def healthz() -> Response:
    return json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})


def readyz() -> Response:
    states: dict[str, MCPState] = current_app.extensions.get("mcp", {})
    checks: dict[str, str] = {}
    for name, state in states.items():
        checks[f"{name}.store"] = _store(state)
        checks[f"{name}.keys"] = _keys(state)
    proxy = current_app.extensions.get("mcp_oauth")
    if proxy is not None:
        checks["oauth.signing_key"] = "ok" if proxy.keys.current_alg else "missing"
    ready = all(value == "ok" for value in checks.values())
    headers = {"Cache-Control": "no-store"}
    if not ready:
        headers["Retry-After"] = str(RETRY_AFTER)
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return json_response(body, 200 if ready else 503, headers)


def _store(state: MCPState) -> str:
    try:
        state.store.set("probe:ready", time.time(), _PROBE_TTL)
    except StoreError as error:
        log.debug("readiness: store of %s: %s", state.mcp.blueprint_name, error)
        return "unavailable"
    return "ok"


def _keys(state: MCPState) -> str:
    """The ``requestState`` key: the app's ``SECRET_KEY``, else a key kept
    in the store (read on first use)."""
    try:
        state.endpoint.server.methods.codec.seal({})
    except StoreError:
        return "unavailable"
    return "ok"
