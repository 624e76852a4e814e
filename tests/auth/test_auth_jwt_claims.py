"""JWT claims a real issuer would not mint: no ``sub``, absurd time values.

Tokens are signed here, over exact payload bytes (``1e400``, ``NaN``, 400-digit
integers), with a key published by a loopback issuer; and sent through the
Flask stack, where each must give 401 ``invalid_token``, never a 500.
"""

from __future__ import annotations

import json
import time
import typing as t

import pytest
from flask import Flask
from joserfc import jws
from joserfc.jwk import RSAKey

from flask_mcp import FlaskMCP
from flask_mcp.auth import ClaimNames
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import Unauthorized
from flask_mcp.auth import bearer_auth
from flask_mcp.store import Store
from flask_mcp.store import StoreUnavailable
from flask_mcp.store.backends import MemoryStoreBackend
from support.mcp_post import INIT

AUDIENCE = "https://mcp.example.com/mcp"


class Signer:
    """An issuer on loopback whose tokens carry any payload bytes."""

    def __init__(self, http_server: t.Any) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.issuer = http_server.url
        http_server.json(
            "/.well-known/openid-configuration",
            {"issuer": self.issuer, "jwks_uri": self.issuer + "/jwks"},
        )
        http_server.json("/jwks", {"keys": [self.key.as_dict(private=False)]})

    def payload(self, **claims: t.Any) -> dict[str, t.Any]:
        now = int(time.time())
        base = {"iss": self.issuer, "aud": AUDIENCE, "iat": now, "exp": now + 600}
        return {**base, **claims}

    def sign(self, payload: dict[str, t.Any] | str) -> str:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        header = {"alg": "RS256", "kid": "k1", "typ": "JWT"}
        return jws.serialize_compact(header, text.encode(), self.key)

    def raw(self, replace: str, by: str, **claims: t.Any) -> str:
        """A token whose payload text has ``replace`` swapped for ``by``."""
        text = json.dumps(self.payload(**claims))
        assert replace in text
        return self.sign(text.replace(replace, by))


@pytest.fixture
def signer(http_server: t.Any) -> Signer:
    return Signer(http_server)


@pytest.fixture
def verifier(signer: Signer, store: Store) -> JWTVerifier:
    return JWTVerifier(signer.issuer, AUDIENCE, store=store)


def refused(verifier: JWTVerifier, token: str, match: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert caught.value.error == "invalid_token"
    assert match in (caught.value.description or "")


def test_a_token_with_sub_is_accepted(signer: Signer, verifier: JWTVerifier) -> None:
    session = verifier.verify(signer.sign(signer.payload(sub="user-1")))
    assert session.subject == "user-1"
    assert session.principal == f"iss={signer.issuer!r} sub='user-1'"


@pytest.mark.parametrize(
    "sub, message",
    [
        (None, "no subject"),
        ("", "no subject"),
        (42.5, "invalid claims"),
        (["a"], "invalid claims"),
        ({"id": "a"}, "invalid claims"),
    ],
)
def test_a_token_without_sub_is_refused(
    signer: Signer, verifier: JWTVerifier, sub: t.Any, message: str
) -> None:
    payload = signer.payload(client_id="shared-client", azp="shared-client")
    if sub is not None:
        payload["sub"] = sub
    refused(verifier, signer.sign(payload), message)


def test_without_sub_when_allowed_every_token_is_its_own_principal(
    signer: Signer, store: Store
) -> None:
    verifier = JWTVerifier(signer.issuer, AUDIENCE, store=store, require_sub=False)
    one = verifier.verify(signer.sign(signer.payload(client_id="c", jti="1")))
    two = verifier.verify(signer.sign(signer.payload(client_id="c", jti="2")))
    assert one.subject is None and one.client_id == two.client_id == "c"
    assert one.principal != two.principal
    assert one.principal == one["principal"]
    # Two tokens of one subject are one principal (a refreshed token keeps
    # its MCP session).
    a = verifier.verify(signer.sign(signer.payload(sub="u", jti="a")))
    b = verifier.verify(signer.sign(signer.payload(sub="u", jti="b")))
    assert a.principal == b.principal


def test_another_subject_claim_satisfies_the_requirement(
    signer: Signer, store: Store
) -> None:
    verifier = JWTVerifier(
        signer.issuer, AUDIENCE, store=store, claims=ClaimNames(subject="oid")
    )
    assert verifier.verify(signer.sign(signer.payload(oid="o-1"))).subject == "o-1"
    refused(verifier, signer.sign(signer.payload(sub="u")), "no subject")


BIG = "1" + "0" * 400

ABSURD_TIMES = {
    "exp 1e300": ("exp", "1e300"),
    "exp 1e400 (inf)": ("exp", "1e400"),
    "exp 400 digits": ("exp", BIG),
    "exp 2**80": ("exp", str(2**80)),
    "exp NaN": ("exp", "NaN"),
    "exp Infinity": ("exp", "Infinity"),
    "exp string": ("exp", '"x"'),
    "exp bool": ("exp", "true"),
    "nbf 400 digits": ("nbf", BIG),
    "nbf -1e400": ("nbf", "-1e400"),
    "nbf NaN": ("nbf", "NaN"),
    "iat 400 digits": ("iat", BIG),
    "iat -400 digits": ("iat", "-" + BIG),
    "iat list": ("iat", "[1]"),
}


@pytest.mark.parametrize("claim, value", ABSURD_TIMES.values(), ids=ABSURD_TIMES)
def test_absurd_times_are_refused(
    signer: Signer, verifier: JWTVerifier, claim: str, value: str
) -> None:
    token = signer.raw(
        f'"{claim}": 7777', f'"{claim}": {value}', sub="u", **{claim: 7777}
    )
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert caught.value.error == "invalid_token"


@pytest.fixture
def app(signer: Signer, tmp_path: t.Any) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path))
    verifier = JWTVerifier(signer.issuer, AUDIENCE)
    mcp = FlaskMCP(app, authenticate=bearer_auth(verifier))

    @mcp.tool()
    def whoami() -> str:
        """Who is calling."""
        return "you"

    return app


@pytest.mark.parametrize("claim, value", ABSURD_TIMES.values(), ids=ABSURD_TIMES)
def test_absurd_times_get_401_through_the_endpoint(
    app: Flask, signer: Signer, claim: str, value: str
) -> None:
    token = signer.raw(
        f'"{claim}": 7777', f'"{claim}": {value}', sub="u", **{claim: 7777}
    )
    response = app.test_client().post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
        },
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_no_sub_gets_401_through_the_endpoint(app: Flask, signer: Signer) -> None:
    token = signer.sign(signer.payload(client_id="c"))
    response = app.test_client().post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
        },
    )
    assert response.status_code == 401
    assert "no subject" in response.headers["WWW-Authenticate"]


class DownBackend(MemoryStoreBackend):
    def get(self, key: str) -> t.Any:
        raise StoreUnavailable("down for the test")


def test_a_store_outage_is_not_a_bad_token(signer: Signer) -> None:
    """The issuer's metadata and keys are only cached in the store: with the
    store down they are fetched (and kept by this process), and tokens are
    verified as ever, neither refused with 401 nor failed with 503."""
    verifier = JWTVerifier(signer.issuer, AUDIENCE, store=Store(DownBackend(), "t:"))
    for user in ("u", "v", "w"):
        token = signer.sign(signer.payload(sub=user))
        assert verifier.verify(token).subject == user


def _post(app: Flask, token: str, body: dict[str, t.Any], session: str = "") -> t.Any:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
    }
    if session:
        headers["Mcp-Session-Id"] = session
    return app.test_client().post("/mcp", json=body, headers=headers)


def test_tokens_without_sub_never_share_an_mcp_session(
    signer: Signer, tmp_path: t.Any
) -> None:
    """Two users of one client (same ``client_id``/``azp``, no ``sub``): the
    session one of them opened is unknown to the other."""
    app = Flask(__name__, instance_path=str(tmp_path))
    verifier = JWTVerifier(signer.issuer, AUDIENCE, require_sub=False)
    FlaskMCP(app, authenticate=bearer_auth(verifier))
    alice = signer.sign(signer.payload(client_id="c", azp="c", jti="alice"))
    bob = signer.sign(signer.payload(client_id="c", azp="c", jti="bob"))
    opened = _post(app, alice, INIT)
    assert opened.status_code == 200
    session = opened.headers["Mcp-Session-Id"]
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    assert _post(app, alice, ping, session).status_code == 200
    assert _post(app, bob, ping, session).status_code == 404
