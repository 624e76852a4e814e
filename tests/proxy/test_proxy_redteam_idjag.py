"""Second look at enterprise-managed authorization (ID-JAG): forged headers,
look-alike issuers, audiences and resources, clock edges, an IdP whose
discovery document names another issuer. Each refusal: its OAuth error and
nothing issued (``issued()``); what is accepted is said so explicitly.

The IdP and the forger are the Python test issuer (:class:`support.oidc.OIDCIssuer`)
on loopback; the forger's JWK Set is reachable over HTTP, so a header that
points at it (``jku``, ``x5u``) would be followed if anything followed it.
"""

from __future__ import annotations

import base64
import json
import math
import time
import typing as t

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_mcp.auth.proxy import EnterpriseIdP as IdPSettings
from support.loopback import LoopbackServer
from support.oidc import OIDCIssuer

from .conftest import BASE_URL
from .conftest import MCP_URL
from .test_proxy_enterprise import JWT_BEARER
from .test_proxy_enterprise import REGISTRATION_TOKEN
from .test_proxy_enterprise import exchange
from .test_proxy_enterprise import mint
from .test_proxy_enterprise import refused
from .test_proxy_enterprise import register


@pytest.fixture(scope="module")
def idp() -> t.Iterator[OIDCIssuer]:
    with OIDCIssuer(alg="ES256") as server:
        yield server


@pytest.fixture(scope="module")
def forger() -> t.Iterator[OIDCIssuer]:
    with OIDCIssuer(alg="ES256") as server:
        yield server


@pytest.fixture
def app(make_app, idp):
    return make_app(enterprise_idps=[idp.issuer], registration_token=REGISTRATION_TOKEN)


@pytest.fixture
def http(app):
    return app.test_client()


@pytest.fixture
def client(http) -> dict[str, t.Any]:
    return register(http)


def _b64(data: dict[str, t.Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged(idp: OIDCIssuer, client: dict[str, t.Any], header: dict[str, t.Any]):
    """Claims a good ID-JAG of ``idp`` would carry, signed by a key of the
    attacker's own with ``header``."""
    key = ECKey.generate_key("P-256")
    good = mint(idp, client).split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(good + "=="))
    full = {"alg": "ES256", "typ": "oauth-id-jag+jwt", **header}
    if full.get("jwk") == "own":
        full["jwk"] = key.as_dict(private=False)
    if full["alg"] != "ES256":  # joserfc signs with the key's algorithm only
        return f"{_b64(full)}.{good}.{_b64_bytes(b'x' * 64)}"
    return jwt.encode(full, claims, key, algorithms=["ES256"])


@pytest.mark.parametrize(
    "header",
    [
        {"jwk": "own"},
        {"jwk": "own", "kid": None},
        {"jku": "{forger}/jwks", "kid": "{forger_kid}"},
        {"x5u": "{forger}/jwks", "kid": "{forger_kid}"},
        {"kid": "../../../../etc/passwd"},
        {"kid": "x\r\nINFO forged log line"},
        {"kid": "k" * 20000},
        {"kid": "{idp_kid}", "alg": "RS256"},
    ],
)
def test_a_key_the_idp_never_published_is_never_used(
    http, idp, forger, client, issued, header
):
    values = {
        "forger": forger.url,
        "forger_kid": forger.keys.signing_kid,
        "idp_kid": idp.keys.signing_kid,
    }
    header = {
        name: value.format(**values) if isinstance(value, str) else value
        for name, value in header.items()
    }
    header = {name: value for name, value in header.items() if value is not None}
    reply = exchange(http, client, forged(idp, client, header))
    refused(reply, "invalid_grant")
    assert issued() == []
    assert forger.hits("/jwks") == 0


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "HS256", "hs256", "HS512"])
def test_no_algorithm_without_a_public_key(http, idp, client, issued, alg):
    """``none`` in any case, and HMAC keyed with the IdP's public key (the
    JWK Set as the shared secret)."""
    import hashlib
    import hmac

    body = mint(idp, client).split(".")[1]
    head = _b64({"alg": alg, "typ": "oauth-id-jag+jwt", "kid": idp.keys.signing_kid})
    secret = json.dumps(idp.keys.jwks()["keys"][0]).encode()
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    signature = "" if alg.lower() == "none" else _b64_bytes(mac)
    refused(
        exchange(http, client, f"{head}.{body}.{signature}"),
        "invalid_grant",
        words="algorithm",
    )
    assert issued() == []


def _b64_bytes(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "typ", ["OAUTH-ID-JAG+JWT", "Application/OAuth-ID-JAG+JWT", "oauth-id-jag+jwt"]
)
def test_typ_is_a_media_type_compared_without_case(http, idp, client, typ):
    """RFC 7515 4.1.9: ``typ`` is a media type, whose names are
    case-insensitive."""
    reply = exchange(http, client, mint(idp, client, header={"typ": typ}))
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize(
    "typ", [" oauth-id-jag+jwt", "oauth-id-jag+jwt;q=1", "id-jag", "jwt", 7, ["x"]]
)
def test_other_types_are_refused(http, idp, client, issued, typ):
    good = mint(idp, client).split(".")
    head = _b64({"alg": "ES256", "kid": idp.keys.signing_kid, "typ": typ})
    refused(
        exchange(http, client, ".".join([head, good[1], good[2]])),
        "invalid_grant",
        words="not an ID-JAG",
    )
    assert issued() == []


def test_look_alike_issuers_are_not_trusted(http, idp, client, issued):
    for issuer in (
        idp.issuer + "/",
        idp.issuer.upper(),
        idp.issuer.replace("127.0.0.1", "localhost"),
        idp.issuer + "?",
        " " + idp.issuer,
    ):
        refused(
            exchange(http, client, mint(idp, client, iss=issuer)),
            "invalid_grant",
            words="not trusted",
        )
    assert issued() == []


@pytest.mark.parametrize(
    "audience",
    [
        [BASE_URL, "https://other-as.example"],
        ["https://other-as.example", BASE_URL],
        [BASE_URL, BASE_URL],
        BASE_URL.upper(),
        BASE_URL + "/oauth/token",
        {"aud": BASE_URL},
    ],
)
def test_an_audience_shared_with_another_server_is_refused(
    http, idp, client, issued, audience
):
    refused(
        exchange(http, client, mint(idp, client, audience=audience)),
        "invalid_grant",
        words="(aud)",
    )
    assert issued() == []


@pytest.mark.parametrize(
    "resource",
    [
        MCP_URL + "?x=1",
        MCP_URL + "#x",
        MCP_URL.replace("localhost", "LOCALHOST"),
        MCP_URL.replace("http:", "https:"),
        BASE_URL + "/x/../mcp",
        BASE_URL + "/%6Dcp",
        BASE_URL + "/MCP",
        BASE_URL + "/oauth/token",
        BASE_URL,
        [],
    ],
)
def test_a_resource_that_only_resembles_the_endpoint(
    http, idp, client, issued, resource
):
    reply = exchange(http, client, mint(idp, client, resource=resource))
    if resource == []:
        refused(reply, "invalid_grant", words="resource is not valid")
    else:
        refused(reply, "invalid_target")
    assert issued() == []


def test_a_trailing_slash_names_the_same_endpoint(http, idp, client):
    """Accepted, as the request's ``resource`` is: the token is for the
    endpoint as configured."""
    reply = exchange(http, client, mint(idp, client, resource=MCP_URL + "/"))
    assert reply.status_code == 200, reply.text
    assert reply.json["resource"] == MCP_URL


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": math.nan},
        {"iat": math.nan},
        {"nbf": math.nan},
        {"exp": math.inf},
        {"exp": 10**30},
        {"exp": -1},
        {"exp": True},
        {"iat": 0, "exp": 253402300799},
        {"nbf": "0"},
        {"jti": 7},
        {"client_id": ["x"]},
    ],
)
def test_clock_and_type_edges(http, idp, client, issued, claims):
    reply = exchange(http, client, mint(idp, client, **claims))
    refused(reply, "invalid_grant")
    assert issued() == []


def test_within_the_leeway(http, idp, client):
    """30 s of skew either way is tolerated, not more."""
    now = int(time.time())
    assert exchange(http, client, mint(idp, client, iat=now + 20)).status_code == 200
    assert (
        exchange(http, client, mint(idp, client, iat=now - 300, exp=now - 20))
    ).status_code == 200


def test_the_same_jti_of_two_idps_are_two_assertions(make_app, idp, forger):
    """``jti`` is unique per issuer: the same value from another trusted IdP
    is not a replay (and one IdP's replay stays refused)."""
    app = make_app(
        enterprise_idps=[idp.issuer, forger.issuer],
        registration_token=REGISTRATION_TOKEN,
    )
    http = app.test_client()
    client = register(http)
    assert exchange(http, client, mint(idp, client, jti="same")).status_code == 200
    assert exchange(http, client, mint(forger, client, jti="same")).status_code == 200
    refused(
        exchange(http, client, mint(idp, client, jti="same")),
        "invalid_grant",
        words="already used",
    )


@pytest.fixture
def impostor(idp) -> t.Iterator[LoopbackServer]:
    """A host whose discovery documents name the real IdP's issuer and keys."""

    def app(environ, start_response):
        path = Request(environ).path
        if "/.well-known/" not in path:
            return Response(status=404)(environ, start_response)
        document = {"issuer": idp.issuer, "jwks_uri": idp.issuer + "/jwks"}
        return Response(json.dumps(document), mimetype="application/json")(
            environ, start_response
        )

    with LoopbackServer(app) as server:
        yield server


def test_an_idp_whose_discovery_names_another_issuer(make_app, idp, impostor, issued):
    """A configured IdP whose metadata names another issuer (RFC 8414 3.3):
    its keys are not used, for its assertions nor for the other's."""
    app = make_app(
        enterprise_idps=[impostor.url], registration_token=REGISTRATION_TOKEN
    )
    http = app.test_client()
    client = register(http)
    reply = exchange(http, client, mint(idp, client, iss=impostor.url))
    refused(reply, "temporarily_unavailable", 503)
    assert reply.headers["Retry-After"]
    assert issued() == []


def test_the_grant_needs_the_registered_grant_type(http, idp, issued):
    """A confidential client registered only for the code flow."""
    reply = http.post(
        "/oauth/register",
        json={
            "client_name": "web",
            "redirect_uris": ["https://app.example/cb"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
        headers={"Authorization": f"Bearer {REGISTRATION_TOKEN}"},
    )
    coded = reply.json
    refused(
        exchange(http, coded, mint(idp, coded)), "unauthorized_client", words=JWT_BEARER
    )
    assert issued() == []


@pytest.mark.parametrize(
    "answer", ["drip_body", "drip_head", "huge", "huge_undeclared"], ids=str
)
def test_a_slow_or_huge_jwk_set_is_503_in_bounded_time(make_app, idp, issued, answer):
    """The IdP's JWK Set dripping or answering 30 MB: the token request ends
    within the discovery deadline (5 s), 503, nothing issued."""
    from support import slow_upstream as slow

    answers = {
        "drip_body": slow.drip_body(b'{"keys": []}'),
        "drip_head": slow.drip_head(),
        "huge": slow.huge(),
        "huge_undeclared": slow.huge(declared=False),
    }
    with slow.SlowUpstream(answers[answer]) as server:
        settings = IdPSettings(idp.issuer, jwks_uri=server.url + "/jwks")
        http = make_app(
            enterprise_idps=[settings], registration_token=REGISTRATION_TOKEN
        ).test_client()
        client = register(http)
        started = time.monotonic()
        reply = exchange(http, client, mint(idp, client))
        took = time.monotonic() - started
    refused(reply, "temporarily_unavailable", 503)
    assert took < 5 + slow.MARGIN + 1, took
    assert issued() == []


def test_an_idp_whose_keys_cannot_be_had_is_not_asked_again_at_once(
    make_app, idp, issued, later
):
    """While the IdP's JWK Set hangs, each token request would hold a worker
    for the whole deadline: a few concurrent requests (any client may
    register for the grant) would pin every sync worker. A failed fetch is
    remembered as long as ``Retry-After`` says: meanwhile refusals are
    immediate, then the keys are fetched again."""
    from support import slow_upstream as slow

    with slow.SlowUpstream(slow.drip_body(b'{"keys": []}')) as server:
        settings = IdPSettings(idp.issuer, jwks_uri=server.url + "/jwks")
        http = make_app(
            enterprise_idps=[settings], registration_token=REGISTRATION_TOKEN
        ).test_client()
        client = register(http)
        first = exchange(http, client, mint(idp, client))
        refused(first, "temporarily_unavailable", 503)
        retry_after = int(first.headers["Retry-After"])
        started = time.monotonic()
        for _ in range(3):
            again = exchange(http, client, mint(idp, client))
            refused(again, "temporarily_unavailable", 503)
            assert int(again.headers["Retry-After"]) <= retry_after
        assert time.monotonic() - started < 1
        assert server.requests == 1
        later(retry_after + 1)
        refused(
            exchange(http, client, mint(idp, client)), "temporarily_unavailable", 503
        )
        assert server.requests == 2
    assert issued() == []


def test_a_store_outage_spends_nothing_and_issues_nothing(
    make_app, idp, documents, doc_path, issued
):
    """Redis stops after a first exchange; the client's document and the
    IdP's keys are still in the app's own cache (Flask-Caching in memory),
    so the request gets as far as the single-use checks: 503, nothing
    issued (fails closed). Once Redis is back, the same ID-JAG is good for
    exactly one token (the refused request spent nothing)."""
    from flask_caching import Cache

    from flask_mcp.auth.proxy import CIMDOptions
    from support import RedisServer

    from .test_proxy_cimd_private_key_jwt import assertion
    from .test_proxy_cimd_private_key_jwt import public

    key = ECKey.generate_key("P-256", auto_kid=True)
    with RedisServer() as redis:
        app = make_app(
            store_url=redis.url + "?socket_timeout=1",
            enterprise_idps=[idp.issuer],
            cimd=CIMDOptions(allow_hosts=("localhost",)),
        )
        Cache(app, config={"CACHE_TYPE": "SimpleCache"})
        http = app.test_client()
        url = documents.document(
            doc_path,
            grant_types=[JWT_BEARER],
            redirect_uris=None,
            token_endpoint_auth_method="private_key_jwt",
            jwks=public(key),
        )
        client = {"client_id": url}

        def exchange_as_document_client(id_jag: str):
            data = {"grant_type": JWT_BEARER, "assertion": id_jag}
            return http.post("/oauth/token", data={**data, **assertion(key, url)})

        assert exchange_as_document_client(mint(idp, client)).status_code == 200
        id_jag = mint(idp, client)
        redis.stop()
        reply = exchange_as_document_client(id_jag)
        refused(reply, "temporarily_unavailable", 503)
        redis.start()
        for _ in range(50):  # the store's probe finds it back
            reply = exchange_as_document_client(id_jag)
            if reply.status_code != 503:
                break
            time.sleep(0.1)
        assert reply.status_code == 200, reply.text
        refused(
            exchange_as_document_client(id_jag), "invalid_grant", words="already used"
        )
    assert issued() == [JWT_BEARER, JWT_BEARER]
