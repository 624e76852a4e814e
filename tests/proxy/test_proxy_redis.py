"""The proxy on a Redis store (several hosts): two apps with their own
instance folders and the same configured keys act as one server."""

from __future__ import annotations

import base64
import os

from joserfc.jwk import ECKey


def test_two_hosts_share_everything_through_redis(make_app, make_flow, redis_server):
    redis_server.flushall()
    keys = {
        "signing_keys": [
            ECKey.generate_key("P-256", auto_kid=True).as_dict(private=True)
        ],
        "encryption_key": base64.urlsafe_b64encode(os.urandom(32)),
    }
    host_a = make_app(store_url=redis_server.url, **keys)
    host_b = make_app(store_url=redis_server.url, **keys)
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
    # Reuse on the other host is detected and ends the family everywhere.
    assert b.refresh(login.client, tokens["refresh_token"]).status == 400
    assert a.whoami(rotated["access_token"]).status == 401
    assert b.whoami(rotated["access_token"]).status == 401
