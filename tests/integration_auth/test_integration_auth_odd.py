"""Refusals returned instead of raised, through gunicorn (2 sync workers)
and the official client: a FastMCP port's ``return Response(status=401)``,
``return False``, a view's ``(body, 401)``. Each used to let the caller in;
the client is refused, and nothing ran."""

from __future__ import annotations

import pytest
import requests

from support.mcp_post import ACCEPT
from support.mcp_post import INIT

from . import official
from .conftest import Served


@pytest.mark.parametrize(
    "mode", ["return-false", "return-response-401", "return-view-tuple"]
)
def test_a_returned_refusal_refuses_the_official_client(auth_server: Served, mode):
    headers = {"X-Test-Auth": mode}
    reply = requests.post(
        auth_server.mcp_url,
        json=INIT,
        headers={"Accept": ACCEPT, **headers},
        timeout=10,
    )
    assert reply.status_code == 401
    assert "Mcp-Session-Id" not in reply.headers
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    for era in ("legacy", "auto"):
        errors = official.refused(auth_server.mcp_url, headers, era)
        # The user's own response is answered as built (a text body): the
        # client reports an error response; the others are flask_mcp's 401.
        message = {"return-response-401": "Server returned an error response"}
        expected = message.get(mode, "Unauthorized")
        assert errors and all(error.error.message == expected for error in errors)
