"""bearer_auth and api_key_auth against real werkzeug requests."""

from __future__ import annotations

import hmac

import pytest
from werkzeug.test import EnvironBuilder

from flask_mcp.auth import AuthError
from flask_mcp.auth import Unauthorized
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import bearer_auth


def make_request(path="/mcp", headers=None, **kwargs):
    return EnvironBuilder(path=path, headers=headers or {}, **kwargs).get_request()


class RecordingVerifier:
    def __init__(self):
        self.tokens = []

    def verify(self, token):
        self.tokens.append(token)
        if token == "bad":
            raise Unauthorized("nope", error="invalid_token")
        return {"sub": "u1", "token": token}


@pytest.fixture
def verifier():
    return RecordingVerifier()


def test_bearer_no_header_returns_none(verifier):
    assert bearer_auth(verifier)(make_request()) is None
    assert verifier.tokens == []


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(verifier, scheme):
    session = bearer_auth(verifier)(
        make_request(headers={"Authorization": f"{scheme} abc.DEF-_~+/=="}),
    )
    assert session == {"sub": "u1", "token": "abc.DEF-_~+/=="}


def test_bearer_other_scheme_returns_none(verifier):
    request = make_request(headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert bearer_auth(verifier)(request) is None


def test_bearer_verifier_errors_propagate(verifier):
    with pytest.raises(Unauthorized) as caught:
        bearer_auth(verifier)(make_request(headers={"Authorization": "Bearer bad"}))
    assert caught.value.error == "invalid_token"


def test_bearer_accepts_plain_callables():
    authenticate = bearer_auth(lambda token: {"t": token})
    assert authenticate(make_request(headers={"Authorization": "Bearer x"})) == {
        "t": "x"
    }


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("Bearer", "invalid_request"),
        ("Bearer    ", "invalid_request"),
        ("Bearer two words", "invalid_token"),
        ("Bearer tok\u00e9n", "invalid_token"),
        ('Bearer "quoted"', "invalid_token"),
    ],
)
def test_bearer_malformed(verifier, header, error):
    with pytest.raises(Unauthorized) as caught:
        bearer_auth(verifier)(make_request(headers={"Authorization": header}))
    assert caught.value.error == error
    assert verifier.tokens == []


def test_bearer_refuses_query_string_token(verifier):
    authenticate = bearer_auth(verifier)
    with pytest.raises(Unauthorized) as caught:
        authenticate(make_request(query_string={"access_token": "abc"}))
    assert caught.value.error == "invalid_request"
    assert caught.value.status_code == 401
    # Even next to a valid header: the token already leaked into the URL.
    with pytest.raises(Unauthorized):
        authenticate(
            make_request(
                query_string={"access_token": "abc"},
                headers={"Authorization": "Bearer abc"},
            )
        )
    assert verifier.tokens == []


def test_bearer_ignores_form_body_token(verifier):
    request = make_request(method="POST", data={"access_token": "abc"})
    assert bearer_auth(verifier)(request) is None
    assert verifier.tokens == []


def test_bearer_refuses_several_headers(verifier):
    request = make_request(
        headers=[("Authorization", "Bearer a"), ("Authorization", "Bearer b")]
    )
    with pytest.raises(Unauthorized) as caught:
        bearer_auth(verifier)(request)
    assert caught.value.error == "invalid_request"


KEYS = {
    "key-alpha-123": {"id": 1, "role": "user"},
    "key-beta-456": {"id": 2, "role": "admin"},
    "k": {"id": 3},
}


def test_api_key_valid():
    authenticate = api_key_auth(KEYS)
    request = make_request(headers={"X-API-Key": "key-beta-456"})
    assert authenticate(request) == {"id": 2, "role": "admin"}


def test_api_key_missing_header_returns_none():
    assert api_key_auth(KEYS)(make_request()) is None


@pytest.mark.parametrize(
    "presented", ["wrong", "", "key-beta-45", "key-beta-4567", "K"]
)
def test_api_key_wrong(presented):
    with pytest.raises(Unauthorized) as caught:
        api_key_auth(KEYS)(make_request(headers={"X-API-Key": presented}))
    assert caught.value.status_code == 401
    assert caught.value.error == "invalid_token"


def test_api_key_custom_header_and_callable_session():
    seen = []

    def session_for(request):
        seen.append(request.path)
        return {"id": 9}

    authenticate = api_key_auth({"s3cret": session_for}, header="Authorization-Key")
    assert authenticate(
        make_request("/x", headers={"Authorization-Key": "s3cret"})
    ) == {"id": 9}
    assert seen == ["/x"]
    assert authenticate(make_request(headers={"X-API-Key": "s3cret"})) is None


def test_api_key_compares_every_key_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def counting(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    authenticate = api_key_auth(KEYS)
    # The first key matches, yet every key is still compared ...
    authenticate(make_request(headers={"X-API-Key": "key-alpha-123"}))
    assert len(calls) == len(KEYS)
    # ... and digests of equal length are compared, whatever the key lengths.
    assert set(calls) == {(32, 32)}
    calls.clear()
    with pytest.raises(AuthError):
        authenticate(make_request(headers={"X-API-Key": "x" * 1000}))
    assert len(calls) == len(KEYS)


@pytest.mark.parametrize("keys", [{}, {"": {"id": 1}}, {5: {"id": 1}}])
def test_api_key_refuses_bad_configuration(keys):
    with pytest.raises(ValueError):
        api_key_auth(keys)
