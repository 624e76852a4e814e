"""Token revocation (RFC 7009): either token ends the grant, upstream included."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("which", "hint"),
    [
        ("refresh_token", None),
        ("refresh_token", "refresh_token"),
        ("access_token", None),
        ("access_token", "access_token"),
        ("access_token", "refresh_token"),  # a wrong hint only orders the lookups
    ],
)
def test_revocation_ends_the_grant(flow, upstream, which, hint):
    tokens = flow.tokens()
    me = flow.whoami(tokens["access_token"])
    assert me.status == 200
    reply = flow.revoke(tokens["client"], tokens[which], token_type_hint=hint)
    assert reply.status == 200, reply.text
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    after = flow.whoami(tokens["access_token"])
    assert after.status == 401
    assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]
    refresh = flow.refresh(tokens["client"], tokens["refresh_token"])
    assert refresh.status == 400 and refresh.json()["error"] == "invalid_grant"
    assert me.json()["upstream_refresh_token"] in upstream.stats()["revoked"]


def test_revoking_twice_or_garbage_is_fine(flow):
    tokens = flow.tokens()
    assert flow.revoke(tokens["client"], tokens["refresh_token"]).status == 200
    assert flow.revoke(tokens["client"], tokens["refresh_token"]).status == 200
    assert flow.revoke(tokens["client"], "garbage").status == 200
    assert flow.revoke(tokens["client"], "a.b.c").status == 200


def test_unknown_hint_is_ignored(flow):
    tokens = flow.tokens()
    reply = flow.revoke(tokens["client"], tokens["refresh_token"], token_type_hint="x")
    assert reply.status == 200
    assert flow.whoami(tokens["access_token"]).status == 401


def test_missing_token(flow):
    client = flow.register()
    reply = flow.post("/oauth/revoke", data={"client_id": client["client_id"]})
    assert reply.status == 400 and reply.json()["error"] == "invalid_request"


def test_another_clients_token_is_not_revoked(flow):
    tokens = flow.tokens()
    other = flow.register()
    for token in (tokens["refresh_token"], tokens["access_token"]):
        reply = flow.revoke(other, token)
        assert reply.status == 400 and reply.json()["error"] == "invalid_grant"
    assert flow.whoami(tokens["access_token"]).status == 200


def test_confidential_client_must_authenticate(flow):
    client = flow.register(token_endpoint_auth_method="client_secret_basic")
    tokens = flow.tokens(client)
    wrong = dict(client, client_secret="wrong")
    reply = flow.revoke(wrong, tokens["refresh_token"])
    assert reply.status == 401 and reply.json()["error"] == "invalid_client"
    assert flow.whoami(tokens["access_token"]).status == 200
    assert flow.revoke(client, tokens["refresh_token"]).status == 200
    assert flow.whoami(tokens["access_token"]).status == 401
