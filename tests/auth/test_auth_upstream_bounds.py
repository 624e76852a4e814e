"""Every call to an authorization server is bounded: one deadline for the
whole call, however slowly the answer drips, and a size cap on the answer.

``requests``' ``timeout`` bounds each read: a server sending 100 bytes every
half second held a token exchange 68 s with ``timeout=2`` (red team, finding
9). Each kind of call here (discovery, JWK Set, introspection, token exchange,
on-behalf-of, and the adapter itself) meets a server that drips its answer and
one that answers 30 MB; each must end within 2 s and a small margin, with the
error it gives for other failures, naming the call."""

from __future__ import annotations

import time
import typing as t

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from flask_mcp.auth import DiscoveryDocumentCache
from flask_mcp.auth import DownstreamError
from flask_mcp.auth import IntrospectionVerifier
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import OnBehalfOf
from flask_mcp.auth import TokenExchange
from flask_mcp.auth import Unauthorized
from flask_mcp.auth.bounded_http import AnswerTooLarge
from flask_mcp.auth.bounded_http import DeadlineExceeded
from flask_mcp.auth.bounded_http import bounded_session
from flask_mcp.auth.discovery import DiscoveryError
from support.slow_upstream import DEADLINE
from support.slow_upstream import SlowUpstream
from support.slow_upstream import drip_body
from support.slow_upstream import small
from support.slow_upstream import within_deadline


def timed(call: t.Callable[[], object], error: type[BaseException]) -> BaseException:
    """The error ``call`` raised, checked to have come at the deadline."""
    started = time.monotonic()
    with pytest.raises(error) as raised:
        call()
    within_deadline(started)
    return raised.value


def quick(call: t.Callable[[], object], error: type[BaseException]) -> BaseException:
    """The error ``call`` raised, well before any deadline."""
    started = time.monotonic()
    with pytest.raises(error) as raised:
        call()
    assert time.monotonic() - started < 1.0
    return raised.value


# The adapter every call goes through.


def test_a_dripping_answer_ends_at_the_deadline(dripping_upstream):
    session = bounded_session(1 << 20)
    call = lambda: session.post(dripping_upstream.url + "/token", timeout=DEADLINE)  # noqa: E731
    error = timed(call, DeadlineExceeded)
    assert isinstance(error, requests.Timeout)
    assert "within 2 s" in str(error)


def test_a_kept_connection_is_bounded_on_its_next_call():
    with SlowUpstream(drip_body(), first=small()) as server:
        session = bounded_session(1 << 20)
        first = session.get(server.url + "/one", timeout=DEADLINE)
        assert first.json() == {"access_token": "x"}
        call = lambda: session.get(server.url + "/two", timeout=DEADLINE)  # noqa: E731
        timed(call, DeadlineExceeded)
        assert server.requests == 2  # one connection, both requests


def test_a_connect_and_read_pair_is_one_deadline_of_their_sum():
    with SlowUpstream(drip_body()) as server:
        session = bounded_session(1 << 20)
        pair = (DEADLINE / 2, DEADLINE / 2)
        timed(lambda: session.get(server.url, timeout=pair), DeadlineExceeded)


def test_a_large_answer_is_refused_without_reading_it(huge_upstream):
    session = bounded_session(1 << 20)
    error = quick(
        lambda: session.get(huge_upstream.url, timeout=DEADLINE), AnswerTooLarge
    )
    assert "larger than 1048576 bytes" in str(error)
    assert isinstance(error, requests.RequestException)


def test_an_answer_within_the_bounds_is_read_as_requests_reads_it():
    body = b'{"access_token": "' + b"t" * 200_000 + b'"}'
    with SlowUpstream(small(body)) as server:
        session = bounded_session(len(body))
        response = session.get(server.url, timeout=DEADLINE, stream=True)
        assert response.content == body
        assert response.json()["access_token"] == "t" * 200_000
        assert response.request.headers["Accept-Encoding"] == "identity"


# Discovery documents and JWK Sets.


def test_a_dripping_discovery_document(dripping_upstream):
    cache = DiscoveryDocumentCache(timeout=DEADLINE)
    error = timed(
        lambda: cache.get(dripping_upstream.url + "/.well-known/x"), DiscoveryError
    )
    assert "timed out after 2.0 s" in str(error)
    assert cache.size == 0  # failures are not cached


def test_a_large_discovery_document(huge_upstream):
    cache = DiscoveryDocumentCache(timeout=DEADLINE)
    error = quick(lambda: cache.get(huge_upstream.url), DiscoveryError)
    assert "larger than 1 MiB" in str(error)


def test_a_session_given_to_the_cache_is_bounded_too(dripping_upstream):
    given = requests.Session()
    given.headers["X-Mine"] = "kept"
    cache = DiscoveryDocumentCache(timeout=DEADLINE, session=given)
    timed(lambda: cache.get(dripping_upstream.url), DiscoveryError)
    assert cache.session is given and given.headers["X-Mine"] == "kept"


ISSUER = "https://issuer.example"


def verify_at(server: SlowUpstream) -> t.Callable[[], object]:
    """Verifying a signed token with the JWK Set at ``server``."""
    verifier = JWTVerifier(
        issuer=ISSUER,
        audience="api",
        jwks_uri=server.url + "/jwks",
        discovery=DiscoveryDocumentCache(timeout=DEADLINE),
    )
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    claims = {"iss": ISSUER, "aud": "api", "sub": "ada", "exp": time.time() + 60}
    token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
    return lambda: verifier.verify(token)


def test_a_dripping_jwk_set_refuses_the_token(dripping_upstream):
    error = timed(verify_at(dripping_upstream), Unauthorized)
    assert "cannot verify tokens of this issuer now" in str(error)


def test_a_large_jwk_set_refuses_the_token(huge_upstream):
    error = quick(verify_at(huge_upstream), Unauthorized)
    assert "cannot verify tokens of this issuer now" in str(error)


# Introspection.


def introspection(server: SlowUpstream) -> IntrospectionVerifier:
    return IntrospectionVerifier(
        server.url + "/introspect", "rs", "rs-secret", timeout=DEADLINE
    )


def test_a_dripping_introspection_answer(dripping_upstream, caplog):
    error = timed(
        lambda: introspection(dripping_upstream).verify("opaque"), Unauthorized
    )
    assert error.error == "invalid_token"
    assert "cannot be verified now" in str(error)
    assert "within 2 s" in caplog.text


def test_a_large_introspection_answer(huge_upstream, caplog):
    error = quick(lambda: introspection(huge_upstream).verify("opaque"), Unauthorized)
    assert error.error == "invalid_token"
    assert "larger than 262144 bytes" in caplog.text


# Downstream tokens: RFC 8693 token exchange and Entra's on-behalf-of.


def exchangers(server: SlowUpstream) -> dict[str, t.Any]:
    return {
        "token exchange": TokenExchange(
            server.url + "/token", "client", "secret", timeout=DEADLINE
        ),
        "on-behalf-of": OnBehalfOf(
            "tenant", "client", "secret", authority=server.url, timeout=DEADLINE
        ),
    }


@pytest.mark.parametrize("kind", ["token exchange", "on-behalf-of"])
def test_a_dripping_token_endpoint_of_a_downstream_exchange(dripping_upstream, kind):
    exchanger = exchangers(dripping_upstream)[kind]
    call = lambda: exchanger.exchange("subject", "api://orders", ["read"])  # noqa: E731
    error = timed(call, DownstreamError)
    assert error.error == "temporarily_unavailable"
    assert error.call.startswith(f"{kind} at {dripping_upstream.url}/")
    assert "did not answer within 2.0 s" in str(error)
    assert "subject" not in str(error)


@pytest.mark.parametrize("kind", ["token exchange", "on-behalf-of"])
def test_a_large_answer_of_a_downstream_exchange(huge_upstream, kind):
    exchanger = exchangers(huge_upstream)[kind]
    call = lambda: exchanger.exchange("subject", "api://orders", ["read"])  # noqa: E731
    error = quick(call, DownstreamError)
    assert error.error == "server_error"
    assert error.call.startswith(f"{kind} at {huge_upstream.url}/")
    assert "answered more than 262144 bytes" in str(error)
