"""Second look at one proxy serving two endpoints (``/a/mcp``, ``/b/mcp``):
look-alike spellings of an endpoint never reach the other one, at the
consent step, at the token endpoint, or at the MCP endpoint."""

from __future__ import annotations

import pytest

from .conftest import BASE_URL
from .flow import FlaskHttp
from .flow import Flow
from .flow import pkce
from .test_proxy_apps import initialize
from .test_proxy_apps import two_servers
from .test_proxy_authenticate import claims_of

A, B = f"{BASE_URL}/a/mcp", f"{BASE_URL}/b/mcp"

#: Spellings that a lax comparison could take for /b/mcp (or for /a/mcp).
LOOK_ALIKES = [
    f"{BASE_URL}/B/mcp",
    f"{BASE_URL}/b/MCP",
    f"{BASE_URL.upper()}/b/mcp",
    f"{BASE_URL}/a/mcp/../../b/mcp",
    f"{BASE_URL}/a/../b/mcp",
    f"{BASE_URL}/%62/mcp",
    f"{BASE_URL}/b%2Fmcp",
    f"{BASE_URL}/b/mcp?x=1",
    f"{BASE_URL}/b/mcp#x",
    f"{BASE_URL}/b/mcp//",
    f"{BASE_URL}:80/b/mcp",
    f"{BASE_URL}/b/mcp%20",
    f"{BASE_URL}/b/mcp\t",
    f"{BASE_URL}//b/mcp",
]


@pytest.fixture
def app(tmp_path, upstream):
    return two_servers(tmp_path, upstream)


@pytest.mark.parametrize("resource", [r for r in LOOK_ALIKES if not r.endswith("//")])
def test_a_look_alike_resource_is_refused_at_authorize(app, resource):
    """Not consent for another endpoint, not the first endpoint either: the
    error page (the redirect URI is the client's, so it may be an error
    redirect; either way, no consent step and no code)."""
    flow = Flow(FlaskHttp(app.test_client()), A)
    client = flow.register()
    flow.tokens(client, remember=True)  # approved for /a/mcp
    reply = flow.authorize(client, challenge=pkce()[1], resource=resource)
    assert "/oauth/consent" not in reply.location
    assert "invalid_target" in reply.location + reply.text, reply.text


@pytest.mark.parametrize("resource", LOOK_ALIKES)
def test_a_code_for_a_is_never_redeemed_for_a_look_alike(app, resource, issued):
    flow = Flow(FlaskHttp(app.test_client()), A)
    login = flow.login()
    reply = flow.token(login, resource=resource)
    assert reply.status == 400, reply.text
    assert reply.json()["error"] == "invalid_target"
    # The code is spent: its grant ended.
    assert flow.token(login).status == 400
    assert issued() == []


@pytest.mark.parametrize("resource", LOOK_ALIKES)
def test_a_refresh_for_a_is_never_for_a_look_alike(app, resource):
    flow = Flow(FlaskHttp(app.test_client()), A)
    tokens = flow.tokens()
    reply = flow.refresh(tokens["client"], tokens["refresh_token"], resource=resource)
    assert reply.status == 400 and reply.json()["error"] == "invalid_target"
    # A refused refresh spends nothing.
    again = flow.refresh(tokens["client"], tokens["refresh_token"])
    assert again.status == 200
    assert claims_of(again.json()["access_token"])["aud"] == A


def test_the_trailing_slash_is_the_same_endpoint(app):
    """``/a/mcp/`` is how some clients write ``/a/mcp``: the same endpoint,
    the same approval, a token for ``/a/mcp`` that ``/b/mcp`` refuses."""
    flow = Flow(FlaskHttp(app.test_client()), A + "/")
    client = flow.register()
    tokens = flow.tokens(client, remember=True)
    assert claims_of(tokens["access_token"])["aud"] == A
    reply = flow.authorize(client, challenge=pkce()[1])
    assert "/oauth/consent" not in reply.location  # remembered
    assert initialize(app, "/b/mcp", tokens["access_token"]) == 401
    login = flow.login(client)
    assert flow.token(login, resource=B).json()["error"] == "invalid_target"
    # Several trailing slashes too: /b/mcp// is /b/mcp, which needs its own
    # consent, and the page names it.
    reply = flow.authorize(client, challenge=pkce()[1], resource=B + "//")
    assert "/oauth/consent" in reply.location
    page = flow.get(reply.location)
    assert f"<code>{B}</code>" in page.text and f"<code>{A}</code>" not in page.text
