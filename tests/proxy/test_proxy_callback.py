"""The upstream callback: single-use short-lived state, bound to the browser;
upstream errors forwarded; the upstream code redeemed server-side."""

from __future__ import annotations

import time

import pytest

from flask_mcp.auth.proxy.storage import FLOW_TTL

from .conftest import BASE_URL
from .flow import pkce
from .flow import query
from .test_proxy_authorize import assert_page


def to_upstream(flow, client=None, state="s1"):
    """Authorize and consent; the reply redirects to the upstream."""
    client = client or flow.register()
    reply = flow.consent(flow.authorize(client, challenge=pkce()[1], state=state))
    assert reply.status == 303
    return client, reply


def upstream_answer(flow, reply):
    """The callback URL the upstream sends the browser to."""
    answer = flow.upstream.get(reply.location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    return answer.headers["Location"]


def test_callback_url_and_our_own_code(flow):
    client, reply = to_upstream(flow)
    callback = upstream_answer(flow, reply)
    assert callback.startswith(BASE_URL + "/oauth/callback?")
    upstream_code = query(callback)["code"]
    done = flow.get(callback)
    assert done.status == 302
    params = query(done.location)
    assert params["code"] != upstream_code
    assert params["state"] == "s1" and params["iss"] == BASE_URL


def test_state_replay(flow):
    client, reply = to_upstream(flow)
    callback = upstream_answer(flow, reply)
    assert flow.get(callback).status == 302
    assert_page(flow.get(callback), error="invalid_request")


@pytest.mark.parametrize(
    "path",
    [
        "/oauth/callback",
        "/oauth/callback?code=x",
        "/oauth/callback?code=x&state=forged",
    ],
)
def test_missing_or_unknown_state(flow, path):
    assert_page(flow.get(path), error="invalid_request")


def test_state_is_short_lived(flow, monkeypatch):
    assert FLOW_TTL <= 600
    client, reply = to_upstream(flow)
    callback = upstream_answer(flow, reply)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + FLOW_TTL + 5)
    assert_page(flow.get(callback), error="invalid_request")


def test_callback_in_another_browser(flow, app, make_flow):
    client, reply = to_upstream(flow)
    callback = upstream_answer(flow, reply)
    assert_page(make_flow(app).get(callback), error="access_denied")
    # The state is spent: the original browser cannot use it either.
    assert_page(flow.get(callback), error="invalid_request")


@pytest.mark.parametrize(
    ("upstream_error", "forwarded"),
    [
        ("access_denied", "access_denied"),
        ("temporarily_unavailable", "temporarily_unavailable"),
        ("invalid_scope", "server_error"),
        ("login_required", "server_error"),
    ],
)
def test_upstream_errors_forwarded(flow, upstream, upstream_error, forwarded):
    client, reply = to_upstream(flow)
    upstream.next_authorize_error(upstream_error, "the user said no")
    done = flow.get(upstream_answer(flow, reply))
    assert done.status == 302
    assert done.location.startswith(client["redirect_uris"][0] + "?")
    params = query(done.location)
    assert params["error"] == forwarded
    assert "the user said no" in params["error_description"]
    if forwarded == "server_error":
        assert upstream_error in params["error_description"]
    assert params["state"] == "s1" and params["iss"] == BASE_URL
    assert "code" not in params


def test_upstream_token_endpoint_refuses(flow, upstream):
    client, reply = to_upstream(flow)
    upstream.next_token_error("invalid_grant")
    done = flow.get(upstream_answer(flow, reply))
    params = query(done.location)
    assert params["error"] == "server_error"
    assert "invalid_grant" in params["error_description"]
    assert params["state"] == "s1" and params["iss"] == BASE_URL


def test_upstream_code_redeemed_once_with_its_verifier(flow, upstream):
    before = upstream.stats()["token"].get("authorization_code", 0)
    flow.login()
    assert upstream.stats()["token"]["authorization_code"] == before + 1
