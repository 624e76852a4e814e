"""What the store's files hold: no upstream token, refresh token, code or
client secret in clear; records findable only through digests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .flow import Login


def store_bytes(app) -> bytes:
    folder = Path(app.instance_path) / "flask_mcp"
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files, "the file store is empty"
    return b"".join(p.read_bytes() for p in files)


def test_secrets_are_not_readable_in_the_store_files(app, flow):
    client = flow.register(token_endpoint_auth_method="client_secret_post")
    login: Login = flow.login(client)
    tokens = flow.token(login).json()
    me = flow.whoami(tokens["access_token"]).json()
    raw = store_bytes(app)
    secrets = {
        "upstream access token": me["upstream_access_token"],
        "upstream refresh token": me["upstream_refresh_token"],
        "our refresh token": tokens["refresh_token"],
        "authorization code": login.code,
        "client secret": client["client_secret"],
        "user e-mail": me["email"],
    }
    for what, value in secrets.items():
        assert value.encode() not in raw, f"{what} is readable in the store"
    # Not even split into JWT segments.
    for segment in me["upstream_access_token"].split("."):
        assert segment.encode() not in raw


def test_records_are_keyed_by_digests(app, flow):
    tokens = flow.tokens()
    storage = app.extensions["mcp_oauth"].storage
    digest = hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()
    record = storage.store.get(f"refresh:{digest}")
    assert record["client_id"] == tokens["client"]["client_id"]
    assert record["resource"] == "http://localhost/mcp"
    assert tokens["refresh_token"] not in repr(record)
    stored = storage.store.get(f"grant:{record['grant_id']}")
    assert stored["sealed"].startswith("v1.")
    assert set(stored) == {
        "client_id",
        "subject",
        "created_at",
        "expires_at",
        "sealed",
        "kind",
    }
    assert stored["kind"] == "login"
    grant = storage.grant(record["grant_id"])
    upstream = storage.upstream(record["grant_id"], grant)
    assert upstream.identity["sub"] == "johndoe"
    assert upstream.tokens.access_token


def test_grant_lives_as_long_as_its_refresh_token(make_app, make_flow):
    import time

    app = make_app(refresh_token_ttl=1000)
    flow = make_flow(app)
    tokens = flow.tokens()
    storage = app.extensions["mcp_oauth"].storage
    digest = hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()
    grant = storage.grant(storage.store.get(f"refresh:{digest}")["grant_id"])
    assert 990 < grant.expires_at - time.time() <= 1000


def test_the_answer_kept_for_the_refresh_grace_is_sealed(app, flow):
    tokens = flow.tokens()
    rotated = flow.refresh(tokens["client"], tokens["refresh_token"]).json()
    storage = app.extensions["mcp_oauth"].storage
    digest = hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()
    kept = storage.store.get(f"refresh-grace:{digest}")
    assert isinstance(kept, str) and kept.startswith("v1.")
    for secret in (rotated["access_token"], rotated["refresh_token"]):
        assert secret not in kept
    assert storage.rotation(tokens["refresh_token"]).answer == rotated
