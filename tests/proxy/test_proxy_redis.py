"""The proxy on a Redis store (several hosts): two apps with their own
instance folders and the same configured keys act as one server."""

from __future__ import annotations

import base64
import os
import time

from joserfc.jwk import ECKey


def test_two_hosts_share_everything_through_redis(make_app, make_flow, redis_server):
    redis_server.flushall()
    keys = {
        "signing_keys": [
            ECKey.generate_key("P-256", auto_kid=True).as_dict(private=True)
        ],
        "encryption_key": base64.urlsafe_b64encode(os.urandom(32)),
    }
    host_a = make_app(store_url=redis_server.url, refresh_grace=1, **keys)
    host_b = make_app(store_url=redis_server.url, refresh_grace=1, **keys)
    a, b = make_flow(host_a), make_flow(host_b)
    login = a.login()
    # The code is redeemed on the other host, once.
    login_b = type(login)(**login.__dict__)
    reply = b.token(login_b)
    assert reply.status == 200, reply.text
    tokens = reply.json()
    assert a.whoami(tokens["access_token"]).status == 200
    assert b.whoami(tokens["access_token"]).status == 200
    rotated = a.refresh(login.client, tokens["refresh_token"]).json()
    # A second refresh on the other host within the grace: the same pair.
    again = b.refresh(login.client, tokens["refresh_token"])
    assert again.status == 200 and again.json() == rotated
    # After it (Redis expires the answer), reuse on the other host is
    # detected and ends the family everywhere.
    time.sleep(1.1)
    assert b.refresh(login.client, tokens["refresh_token"]).status == 400
    assert a.whoami(rotated["access_token"]).status == 401
    assert b.whoami(rotated["access_token"]).status == 401


def test_a_store_outage_is_503_temporarily_unavailable(make_app, tmp_path):
    """Every proxy endpoint answers a stopped Redis with 503 in its own
    format (JSON for clients, the error page for browsers), never a 500."""
    from support import RedisServer

    with RedisServer() as redis:
        app = make_app(store_url=redis.url + "?socket_timeout=1")
        client = app.test_client()
        redis.stop()
        registered = client.post(
            "/oauth/register",
            json={"redirect_uris": ["http://127.0.0.1:9/cb"], "client_name": "x"},
        )
        assert registered.status_code == 503, registered.text
        assert registered.json["error"] == "temporarily_unavailable"
        assert registered.headers["Retry-After"]
        token = client.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "r",
                "client_id": "c",
            },
        )
        assert (
            token.status_code == 503
            and token.json["error"] == "temporarily_unavailable"
        )
        page = client.get(
            "/oauth/authorize?response_type=code&client_id=c&redirect_uri=http://127.0.0.1:9/cb"
        )
        assert page.status_code == 503
        assert page.mimetype == "text/html"
        assert "temporarily_unavailable" in page.text
        mcp = client.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={
                "Accept": "application/json, text/event-stream",
                "Authorization": "Bearer abc.def.ghi",
            },
        )
        assert mcp.status_code in (401, 503), (
            mcp.text
        )  # a malformed token needs no store
        assert mcp.mimetype == "application/json"
