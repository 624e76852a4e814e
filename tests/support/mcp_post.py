"""An MCP request POSTed by hand through Flask's test client, for tests that
look at statuses and headers rather than results::

    from support.mcp_post import INIT, post

    assert post(app, INIT, **{"X-API-Key": "k"}).status_code == 401
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from flask import Flask
    from werkzeug.test import TestResponse

__all__ = ["ACCEPT", "INIT", "post"]

#: What Streamable HTTP clients accept.
ACCEPT = "application/json, text/event-stream"
#: An ``initialize`` request of a 2025-11-25 client.
INIT: dict[str, t.Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


def post(app: Flask, body: t.Mapping[str, t.Any], **headers: str) -> TestResponse:
    """POST ``body`` to the app's ``/mcp`` with ``headers``."""
    return app.test_client().post(
        "/mcp", json=dict(body), headers={"Accept": ACCEPT, **headers}
    )
