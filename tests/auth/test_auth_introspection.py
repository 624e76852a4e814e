"""IntrospectionVerifier (RFC 7662) against a real endpoint on loopback."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import unquote_plus

import pytest
from werkzeug.wrappers import Response

from flask_mcp.auth import Forbidden
from flask_mcp.auth import IntrospectionVerifier
from flask_mcp.auth import TokenSession
from flask_mcp.auth import Unauthorized
from flask_mcp.store import Store
from flask_mcp.store.backends import MemoryStoreBackend

CLIENT_ID = "mcp server"  # a space: RFC 6749 section 2.3.1 form-encodes it
CLIENT_SECRET = "s3cr:t/+"
AUDIENCE = "https://mcp.example.com/mcp"


class Endpoint:
    """An RFC 7662 endpoint with a table of tokens."""

    def __init__(self, http_server):
        self.tokens: dict[str, dict] = {}
        self.seen: list[str] = []
        self.url = http_server.route("/introspect", self.handle)
        self.path = "/introspect"
        self.server = http_server

    @property
    def hits(self) -> int:
        return self.server.hits[self.path]

    def handle(self, request):
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        if (
            request.method != "POST"
            or scheme != "Basic"
            or (unquote_plus(user), unquote_plus(password))
            != (CLIENT_ID, CLIENT_SECRET)
        ):
            return Response('{"error": "invalid_client"}', 401)
        token = request.form["token"]
        assert request.form["token_type_hint"] == "access_token"
        self.seen.append(token)
        answer = self.tokens.get(token, {"active": False})
        return Response(json.dumps(answer), content_type="application/json")


@pytest.fixture
def endpoint(http_server):
    endpoint = Endpoint(http_server)
    now = int(time.time())
    endpoint.tokens["good"] = {
        "active": True,
        "sub": "user-1",
        "scope": "files:read files:write",
        "client_id": "client-9",
        "aud": [AUDIENCE, "https://other"],
        "exp": now + 3600,
        "iat": now,
        "roles": ["admin"],
    }
    endpoint.tokens["other-aud"] = {"active": True, "sub": "u", "aud": "https://other"}
    endpoint.tokens["no-aud"] = {"active": True, "sub": "u"}
    endpoint.tokens["short"] = {"active": True, "sub": "u", "exp": now + 2}
    endpoint.tokens["stale"] = {"active": True, "sub": "u", "exp": now - 5}
    endpoint.tokens["bool-active"] = {"active": "true", "sub": "u"}
    return endpoint


@pytest.fixture
def verifier(endpoint, store):
    return IntrospectionVerifier(
        endpoint.url, CLIENT_ID, CLIENT_SECRET, audience=AUDIENCE, store=store
    )


def rejected(verifier, token, match=None):
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert caught.value.error == "invalid_token"
    if match:
        assert match in caught.value.description
    return caught.value


def test_active_token(endpoint, verifier):
    session = verifier.verify("good")
    assert isinstance(session, TokenSession)
    assert session.subject == "user-1"
    assert session.scopes == {"files:read", "files:write"}
    assert session.roles == {"admin"}
    assert session.client_id == "client-9"
    assert session.token == "good"
    assert endpoint.seen == ["good"]


class RecordingBackend(MemoryStoreBackend):
    """Remembers every key written."""

    def __init__(self):
        super().__init__()
        self.written: list[str] = []

    def set(self, key, value, ttl):
        self.written.append(key)
        super().set(key, value, ttl)


def test_answers_are_cached_by_hash(endpoint):
    store = Store(RecordingBackend(), "t:")
    verifier = IntrospectionVerifier(
        endpoint.url, CLIENT_ID, CLIENT_SECRET, audience=AUDIENCE, store=store
    )
    verifier.verify("good")
    verifier.verify("good")
    assert verifier("good").subject == "user-1"
    assert endpoint.hits == 1
    key = verifier.cache_key("good")
    assert key.endswith(hashlib.sha256(b"good").hexdigest())
    assert store.get(key)["v"]["sub"] == "user-1"  # with its expiry, "e"
    assert store.backend.written == ["t:" + key]


def test_inactive_token(endpoint, verifier):
    rejected(verifier, "unknown", "not active")
    rejected(verifier, "unknown")
    assert endpoint.hits == 2  # inactive answers are not cached
    rejected(verifier, "bool-active", "not active")  # "true" is not true


def test_audience_mismatch(endpoint, verifier):
    rejected(verifier, "other-aud", "not meant for this resource")
    rejected(verifier, "no-aud", "not meant for this resource")


def test_no_audience_configured(endpoint, store):
    verifier = IntrospectionVerifier(
        endpoint.url, CLIENT_ID, CLIENT_SECRET, store=store
    )
    assert verifier.verify("other-aud").subject == "u"


def test_audience_sequence(endpoint, store):
    verifier = IntrospectionVerifier(
        endpoint.url,
        CLIENT_ID,
        CLIENT_SECRET,
        audience=["https://nope", "https://other"],
        store=store,
    )
    assert verifier.verify("other-aud").subject == "u"


def test_cache_never_outlives_exp(endpoint, store, clock):
    verifier = IntrospectionVerifier(
        endpoint.url, CLIENT_ID, CLIENT_SECRET, cache_ttl=60, store=store
    )
    assert verifier.verify("short").subject == "u"
    assert verifier.verify("short").subject == "u"
    assert endpoint.hits == 1
    clock.advance(2.2)
    rejected(verifier, "short", "expired")
    # Cached for min(cache_ttl, exp - now), so the expired entry was gone.
    assert endpoint.seen == ["short", "short"]


def test_expired_answer_is_refused(endpoint, store):
    verifier = IntrospectionVerifier(
        endpoint.url, CLIENT_ID, CLIENT_SECRET, store=store
    )
    rejected(verifier, "stale", "expired")


def test_cache_disabled(endpoint, store):
    verifier = IntrospectionVerifier(
        endpoint.url,
        CLIENT_ID,
        CLIENT_SECRET,
        audience=AUDIENCE,
        cache_ttl=0,
        store=store,
    )
    verifier.verify("good")
    verifier.verify("good")
    assert endpoint.hits == 2


def test_wrong_client_credentials(endpoint, store):
    verifier = IntrospectionVerifier(endpoint.url, CLIENT_ID, "wrong", store=store)
    rejected(verifier, "good", "cannot be verified")
    assert endpoint.seen == []


def test_endpoint_down_or_broken(http_server, store):
    http_server.route("/html", lambda request: Response("<html>", 200))
    http_server.json("/no-active", {"sub": "u"})
    for path in ("/html", "/no-active", "/missing"):
        verifier = IntrospectionVerifier(
            http_server.url + path, CLIENT_ID, CLIENT_SECRET, store=store
        )
        rejected(verifier, "good", "cannot be verified")
    url = http_server.url + "/introspect"
    http_server.close()
    verifier = IntrospectionVerifier(url, CLIENT_ID, CLIENT_SECRET, store=store)
    rejected(verifier, "good", "cannot be verified")


def test_empty_token(verifier):
    rejected(verifier, "")


def test_required_scopes(endpoint, store):
    verifier = IntrospectionVerifier(
        endpoint.url,
        CLIENT_ID,
        CLIENT_SECRET,
        store=store,
        required_scopes=["files:admin"],
    )
    with pytest.raises(Forbidden) as caught:
        verifier.verify("good")
    assert caught.value.error == "insufficient_scope"


BIG = "1" + "0" * 400

ABSURD = {
    "exp 400 digits": '"exp": ' + BIG,
    "exp 1e400 (inf)": '"exp": 1e400',
    "exp 1e300": '"exp": 1e300',
    "exp NaN": '"exp": NaN',
    "exp string": '"exp": "tomorrow"',
    "nbf 400 digits": '"nbf": ' + BIG,
    "nbf NaN": '"nbf": NaN',
    "iat -400 digits": '"iat": -' + BIG,
    "iat list": '"iat": [1]',
}


@pytest.mark.parametrize("claim", ABSURD.values(), ids=ABSURD)
def test_out_of_range_numbers_are_refused(http_server, store, claim):
    """Answers are JSON from the network: numbers of any size, NaN."""
    body = (
        json.dumps({"active": True, "sub": "u", "aud": AUDIENCE})[:-1] + f", {claim}}}"
    )
    url = http_server.route(
        "/absurd", lambda request: Response(body, content_type="application/json")
    )
    verifier = IntrospectionVerifier(
        url, CLIENT_ID, CLIENT_SECRET, audience=AUDIENCE, store=store
    )
    rejected(verifier, "token", "invalid claims")
    assert store.get(verifier.cache_key("token")) is None  # nor cached


@pytest.mark.parametrize("aud", [5, None, [5, None], {"a": 1}, True])
def test_odd_audiences_are_refused(http_server, store, aud):
    url = http_server.json("/aud", {"active": True, "sub": "u", "aud": aud})
    verifier = IntrospectionVerifier(
        url, CLIENT_ID, CLIENT_SECRET, audience=AUDIENCE, store=store
    )
    rejected(verifier, "token", "not meant for this resource")


def test_without_sub_each_token_is_its_own_principal(endpoint, store):
    endpoint.tokens["a"] = {"active": True, "client_id": "shared", "aud": AUDIENCE}
    endpoint.tokens["b"] = {"active": True, "client_id": "shared", "aud": AUDIENCE}
    verifier = IntrospectionVerifier(
        endpoint.url, CLIENT_ID, CLIENT_SECRET, audience=AUDIENCE, store=store
    )
    assert verifier.verify("a").principal != verifier.verify("b").principal
