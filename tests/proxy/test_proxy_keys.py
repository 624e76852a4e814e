"""Keys: generated once in the instance folder (even by racing processes),
shared by every app on it; configured keys with rotation; the encryption key."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap

import pytest
from joserfc.jwk import ECKey
from joserfc.jwk import OKPKey
from joserfc.jwk import RSAKey

from flask_mcp.auth.proxy import OAuthProxy
from flask_mcp.auth.proxy import Sealer
from flask_mcp.auth.proxy import SigningKeys
from flask_mcp.auth.proxy.keyfiles import KEY_FOLDER

from .app import make_provider
from .test_proxy_token import jwt_parts


def jwks(app):
    return app.test_client().get("/oauth/jwks").json


def test_generated_once_and_shared_by_apps_on_one_instance_folder(
    make_app, make_flow, tmp_path
):
    instance = tmp_path / "shared"
    first, second = make_app(instance), make_app(instance)
    assert jwks(first) == jwks(second)
    files = sorted(os.listdir(instance / KEY_FOLDER))
    assert files == ["mcp.encryption.key", "mcp.signing.jwks"]
    for name in files:
        assert (instance / KEY_FOLDER / name).stat().st_mode & 0o077 == 0
    # A token issued through one app authenticates on the other (restart).
    tokens = make_flow(first).tokens()
    assert make_flow(second).whoami(tokens["access_token"]).status == 200
    # Another instance folder: other keys, tokens refused.
    assert jwks(make_app(tmp_path / "other")) != jwks(first)


RACE = textwrap.dedent(
    """
    import sys, time
    from flask_mcp.auth.proxy import Sealer, SigningKeys
    start = float(sys.argv[2])
    while time.time() < start:
        pass
    keys = SigningKeys.persisted(sys.argv[1] + "/signing.jwks")
    sealer = Sealer.persisted(sys.argv[1] + "/encryption.key")
    print(keys.current.kid, sealer.seal("x", context="c"))
    """
)


def test_racing_processes_end_up_with_one_key(tmp_path):
    import time

    start = str(time.time() + 1.0)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(tmp_path / "keys"), start],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [proc.communicate(timeout=60)[0].split() for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    assert len({kid for kid, _ in results}) == 1
    sealer = Sealer.persisted(str(tmp_path / "keys" / "encryption.key"))
    assert all(sealer.open(sealed, context="c") == "x" for _, sealed in results)
    assert sorted(os.listdir(tmp_path / "keys")) == ["encryption.key", "signing.jwks"]


def test_configured_keys_and_rotation(make_app, make_flow, tmp_path):
    old = ECKey.generate_key("P-256", private=True, auto_kid=True)
    new = RSAKey.generate_key(2048, private=True)
    pem = new.as_pem(private=True).decode()
    instance = tmp_path / "rotating"
    before = make_app(instance, signing_keys=[old.as_dict(private=True)])
    tokens = make_flow(before).tokens()
    assert jwt_parts(tokens["access_token"])[0]["kid"] == old.kid
    after = make_app(instance, signing_keys=[pem, old.as_dict(private=True)])
    published = jwks(after)["keys"]
    assert [k["alg"] for k in published] == ["RS256", "ES256"]
    assert published[1]["kid"] == old.kid
    assert all("d" not in k for k in published)
    # Old tokens still work; new ones are signed with the newest key.
    assert make_flow(after).whoami(tokens["access_token"]).status == 200
    fresh = make_flow(after).tokens()
    assert jwt_parts(fresh["access_token"])[0] == {
        "alg": "RS256",
        "typ": "at+jwt",
        "kid": published[0]["kid"],
    }
    # Once the old key is dropped, its tokens stop working.
    dropped = make_app(instance, signing_keys=[pem])
    assert make_flow(dropped).whoami(tokens["access_token"]).status == 401
    assert make_flow(dropped).whoami(fresh["access_token"]).status == 200
    assert not (instance / KEY_FOLDER / "mcp.signing.jwks").exists()


def test_ed25519_key(make_app, make_flow):
    key = OKPKey.generate_key("Ed25519", private=True)
    flow = make_flow(make_app(signing_keys=[key.as_dict(private=True)]))
    tokens = flow.tokens()
    assert jwt_parts(tokens["access_token"])[0]["alg"] == "Ed25519"
    assert flow.whoami(tokens["access_token"]).status == 200


@pytest.mark.parametrize(
    "bad",
    [
        [ECKey.generate_key("P-256").as_dict(private=False)],
        [{"kty": "oct", "k": "c2VjcmV0"}],
        ["not a pem"],
        [],
    ],
)
def test_bad_signing_keys(bad):
    with pytest.raises(ValueError):
        OAuthProxy(make_provider("http://localhost", "http://u"), signing_keys=bad)


def test_duplicate_kids():
    key = ECKey.generate_key("P-256", private=True, auto_kid=True).as_dict(private=True)
    with pytest.raises(ValueError, match="unique"):
        SigningKeys.from_config([key, key])


def test_configured_encryption_key(make_app, make_flow, tmp_path):
    raw = os.urandom(32)
    for key in (raw, base64.urlsafe_b64encode(raw).decode().rstrip("=")):
        instance = tmp_path / f"enc-{type(key).__name__}"
        app = make_app(instance, encryption_key=key)
        assert make_flow(app).tokens()
        assert not (instance / KEY_FOLDER / "mcp.encryption.key").exists()


def test_keys_from_app_config(upstream, tmp_path):
    from flask import Flask

    from flask_mcp import FlaskMCP

    signing = ECKey.generate_key("P-256", private=True, auto_kid=True)
    app = Flask(__name__, instance_path=str(tmp_path / "cfg"))
    app.config["MCP_OAUTH_SIGNING_KEYS"] = [signing.as_dict(private=True)]
    app.config["MCP_OAUTH_ENCRYPTION_KEY"] = base64.urlsafe_b64encode(os.urandom(32))
    FlaskMCP(app, auth=OAuthProxy(make_provider("http://localhost", upstream.url)))
    assert jwks(app)["keys"][0]["kid"] == signing.kid
    assert not (tmp_path / "cfg" / KEY_FOLDER).exists()


@pytest.mark.parametrize(
    "bad", [b"short", "!!!", bytes(range(31))], ids=["short", "not-base64", "31-bytes"]
)
def test_bad_encryption_keys(bad):
    with pytest.raises(ValueError):
        OAuthProxy(make_provider("http://localhost", "http://u"), encryption_key=bad)


def test_sealed_values_are_bound_to_key_and_record():
    from flask_mcp.auth.proxy.sealing import SealError

    sealer = Sealer(os.urandom(32))
    sealed = sealer.seal({"access_token": "secret"}, context="grant:a")
    assert "secret" not in sealed
    assert sealer.open(sealed, context="grant:a") == {"access_token": "secret"}
    with pytest.raises(SealError):
        sealer.open(sealed, context="grant:b")
    with pytest.raises(SealError):
        Sealer(os.urandom(32)).open(sealed, context="grant:a")
    with pytest.raises(SealError):
        sealer.open(sealed[:-4] + "AAAA", context="grant:a")
