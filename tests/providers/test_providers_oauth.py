"""OAuthProvider (explicit endpoints) against the loopback upstream: the
authorization URL, client authentication, token response parsing, upstream
failures and timeouts, refresh, revocation, userinfo, sessions."""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from flask_mcp.auth.providers import OAuthProvider
from flask_mcp.auth.providers import OAuthSession
from flask_mcp.auth.providers import UpstreamError
from flask_mcp.auth.providers import UpstreamTokens

from .upstream import BASE_URL
from .upstream import CHALLENGE
from .upstream import CLIENT_SECRET
from .upstream import CODE
from .upstream import VERIFIER
from .upstream import Upstream

AUTHORIZE = "https://idp.example.com/oauth/authorize"
TOKEN = "https://idp.example.com/oauth/token"
USERINFO = "https://idp.example.com/userinfo"
REVOKE = "https://idp.example.com/oauth/revoke"
GITHUB_TOKEN = "gho_16C7e42F292c6912E7710c838347Ae178B4a"


def make(upstream: Upstream, **options: object) -> OAuthProvider:
    settings: dict[str, object] = {
        "base_url": BASE_URL + "/",
        "client_id": "mcp-client",
        "client_secret": CLIENT_SECRET,
        "scopes": ("read", "write"),
        "authorize_url": upstream.local(AUTHORIZE),
        "token_url": upstream.local(TOKEN),
        "userinfo_url": upstream.local(USERINFO),
        "revocation_url": upstream.local(REVOKE),
        "timeout": 2.0,
    }
    return OAuthProvider(**(settings | options))  # type: ignore[arg-type]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_authorization_url_sends_pkce_s256_state_and_scopes(upstream):
    provider = make(upstream, extra_authorize_params={"prompt": "login"})
    url = provider.authorization_url(state="leg-state", code_verifier=VERIFIER)
    assert url.startswith(upstream.local(AUTHORIZE) + "?")
    params = query(url)
    digest = hashlib.sha256(VERIFIER.encode()).digest()
    assert params["code_challenge"] == CHALLENGE
    assert CHALLENGE == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert params["code_challenge_method"] == "S256"
    assert params == params | {
        "response_type": "code",
        "client_id": "mcp-client",
        "redirect_uri": "https://mcp.example.com/oauth/callback",
        "state": "leg-state",
        "scope": "read write",
        "prompt": "login",
    }
    assert VERIFIER not in url and CLIENT_SECRET not in url
    assert provider.redirect_uri == "https://mcp.example.com/oauth/callback"
    assert upstream.seen == []  # building the URL needs no network


def test_authorization_url_keeps_the_endpoint_query(upstream):
    provider = make(upstream, authorize_url=upstream.local(AUTHORIZE) + "?tenant=acme")
    assert query(provider.authorization_url(state="s", code_verifier=VERIFIER))[
        "tenant"
    ] == ("acme")


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "a" * 42 + " ", "é" * 50])
def test_malformed_verifiers_are_refused(upstream, verifier):
    provider = make(upstream)
    with pytest.raises(ValueError, match="code_verifier"):
        provider.authorization_url(state="s", code_verifier=verifier)
    with pytest.raises(ValueError, match="code_verifier"):
        provider.exchange_code(code=CODE, code_verifier=verifier)
    assert upstream.seen == []


def test_client_secret_post_sends_the_secret_in_the_body(upstream):
    upstream.recorded("POST", TOKEN, "github/token.json")
    tokens = make(upstream).exchange_code(code=CODE, code_verifier=VERIFIER)
    assert tokens.access_token == GITHUB_TOKEN
    (seen,) = upstream.requests_to(TOKEN)
    assert seen.form == {
        "grant_type": "authorization_code",
        "code": CODE,
        "code_verifier": VERIFIER,
        "redirect_uri": "https://mcp.example.com/oauth/callback",
        "client_id": "mcp-client",
        "client_secret": CLIENT_SECRET,
    }
    assert "Authorization" not in seen.headers
    assert seen.headers["Accept"] == "application/json"


def test_client_secret_basic_sends_the_secret_in_the_header(upstream):
    upstream.recorded("POST", TOKEN, "github/token.json")
    provider = make(upstream, token_endpoint_auth_method="client_secret_basic")
    provider.exchange_code(code=CODE, code_verifier=VERIFIER)
    (seen,) = upstream.requests_to(TOKEN)
    credentials = base64.b64encode(f"mcp-client:{CLIENT_SECRET}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {credentials}"
    assert "client_secret" not in seen.form
    assert seen.form["code_verifier"] == VERIFIER


def test_a_public_client_sends_no_secret(upstream):
    upstream.recorded("POST", TOKEN, "github/token.json")
    make(upstream, token_endpoint_auth_method="none", client_secret="").exchange_code(
        code=CODE, code_verifier=VERIFIER
    )
    (seen,) = upstream.requests_to(TOKEN)
    assert seen.form["client_id"] == "mcp-client"
    assert "client_secret" not in seen.form and "Authorization" not in seen.headers


@pytest.mark.parametrize("kind", ["json", "form"])
def test_token_responses_as_json_and_form_encoded(upstream, kind):
    upstream.recorded("POST", TOKEN, f"github/token-expiring.{kind}")
    before = time.time()
    tokens = make(upstream).exchange_code(code=CODE, code_verifier=VERIFIER)
    assert tokens.access_token.startswith("ghu_")
    assert tokens.refresh_token and tokens.refresh_token.startswith("ghr_")
    assert tokens.token_type == "Bearer"  # "bearer" normalised
    assert tokens.expires_at is not None
    assert before + 28800 <= tokens.expires_at <= time.time() + 28800
    assert tokens.scopes == ()  # "scope": "" means nothing was granted
    assert tokens.raw["refresh_token_expires_in"] in (15811200, "15811200")


def test_missing_expires_in_and_scope(upstream):
    upstream.reply("POST", TOKEN, '{"access_token": "at-1", "token_type": "Bearer"}')
    tokens = make(upstream).exchange_code(code=CODE, code_verifier=VERIFIER)
    assert tokens.expires_at is None
    assert tokens.scopes == ("read", "write")  # RFC 6749, 5.1: as requested
    assert tokens.refresh_token is None and tokens.id_token is None


@pytest.mark.parametrize("expires_in", ['"3600"', "3600.5", '"soon"', "-5", "null"])
def test_expires_in_is_read_leniently(upstream, expires_in):
    body = '{"access_token": "at-1", "expires_in": ' + expires_in + "}"
    upstream.reply("POST", TOKEN, body)
    tokens = make(upstream).exchange_code(code=CODE, code_verifier=VERIFIER)
    if expires_in in ('"soon"', "-5", "null"):
        assert tokens.expires_at is None
    else:
        assert tokens.expires_at == pytest.approx(time.time() + 3600, abs=5)


def test_scope_as_a_list(upstream):
    upstream.reply("POST", TOKEN, '{"access_token": "at", "scope": ["a", "b", "a"]}')
    tokens = make(upstream).exchange_code(code=CODE, code_verifier=VERIFIER)
    assert tokens.scopes == ("a", "b")


@pytest.mark.parametrize(
    ("name", "status", "error", "description"),
    [
        ("google/error-invalid_grant.json", 400, "invalid_grant", "Bad Request"),
        ("google/error-invalid_client.json", 401, "invalid_client", "Unauthorized"),
        ("microsoft/error-invalid_grant.json", 400, "invalid_grant", "AADSTS70008"),
        (
            "github/error-bad_verification_code.json",
            200,
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        ),
        (
            "github/error-bad_verification_code.form",
            200,
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        ),
    ],
)
def test_upstream_error_codes_are_kept(upstream, name, status, error, description):
    upstream.recorded("POST", TOKEN, name, status)
    with pytest.raises(UpstreamError) as caught:
        make(upstream).exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == error
    assert caught.value.description and description in caught.value.description


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("gateway/502.html", 502),
        ("gateway/503.txt", 503),
        ("gateway/429.txt", 429),
        ("gateway/200-login-page.html", 200),
    ],
)
def test_non_json_bodies_are_server_errors(upstream, name, status):
    upstream.recorded("POST", TOKEN, name, status)
    with pytest.raises(UpstreamError) as caught:
        make(upstream).exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "server_error"
    assert f"HTTP {status}" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "status", "content_type"),
    [
        ("", 500, "text/plain"),
        ("{not json", 500, "application/json"),
        ('["a list"]', 200, "application/json"),
        ('{"token_type": "Bearer"}', 200, "application/json"),
        ('{"message": "Not Found"}', 404, "application/json"),
        ("access_token=", 200, "application/x-www-form-urlencoded"),
    ],
)
def test_unusable_token_responses(upstream, body, status, content_type):
    upstream.reply("POST", TOKEN, body, status, content_type)
    with pytest.raises(UpstreamError) as caught:
        make(upstream).exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "server_error"


def test_a_token_endpoint_timeout_is_temporarily_unavailable(upstream, caplog):
    upstream.hang("POST", TOKEN)
    provider = make(upstream, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(UpstreamError) as caught:
        provider.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert time.monotonic() - started < 3
    assert caught.value.error == "temporarily_unavailable"
    assert "0.3 s" in str(caught.value)
    assert any(
        r.levelno == logging.WARNING and "timed out" in r.getMessage()
        for r in caplog.records
    )
    with pytest.raises(UpstreamError, match="did not answer"):
        provider.refresh("1//0refresh-token-value")
    upstream.hang("GET", USERINFO)
    with pytest.raises(UpstreamError, match="did not answer"):
        provider.identity(UpstreamTokens(access_token="at"))


def test_an_unreachable_upstream_is_temporarily_unavailable(upstream):
    closed = Upstream()
    url = closed.url
    closed.close()
    provider = make(upstream, token_url=url + "/token")
    with pytest.raises(UpstreamError) as caught:
        provider.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "temporarily_unavailable"


def test_refresh_keeps_the_refresh_token_upstream_does_not_rotate(upstream):
    upstream.recorded("POST", TOKEN, "google/token-refresh.json", id_token="")
    tokens = make(upstream).refresh("1//0old-refresh")
    assert tokens.refresh_token == "1//0old-refresh"
    assert tokens.id_token is None  # an empty id_token is no token
    (seen,) = upstream.requests_to(TOKEN)
    assert seen.form == {
        "grant_type": "refresh_token",
        "refresh_token": "1//0old-refresh",
        "client_id": "mcp-client",
        "client_secret": CLIENT_SECRET,
    }


def test_refresh_takes_a_rotated_refresh_token(upstream):
    upstream.recorded("POST", TOKEN, "microsoft/token-refresh.json")
    tokens = make(upstream).refresh("1.old")
    assert tokens.refresh_token and "rotated" in tokens.refresh_token


def test_refresh_refused(upstream):
    upstream.recorded("POST", TOKEN, "google/error-invalid_grant.json", 400)
    with pytest.raises(UpstreamError) as caught:
        make(upstream).refresh("1//0old-refresh")
    assert caught.value.error == "invalid_grant"


def test_revoke_sends_the_refresh_token_with_a_hint(upstream):
    upstream.reply("POST", REVOKE, "", 200)
    make(upstream).revoke(UpstreamTokens(access_token="at-9", refresh_token="rt-9"))
    (seen,) = upstream.requests_to(REVOKE)
    assert seen.form["token"] == "rt-9"
    assert seen.form["token_type_hint"] == "refresh_token"
    assert seen.form["client_secret"] == CLIENT_SECRET
    make(upstream).revoke(UpstreamTokens(access_token="at-9"))
    assert upstream.requests_to(REVOKE)[1].form["token"] == "at-9"


@pytest.mark.parametrize("failure", ["refused", "timeout", "unreachable", "none"])
def test_revoke_is_best_effort(upstream, caplog, failure):
    if failure == "refused":
        upstream.recorded("POST", REVOKE, "google/revoke-invalid_token.json", 400)
    elif failure == "timeout":
        upstream.hang("POST", REVOKE)
    options: dict[str, object] = {"timeout": 0.3}
    if failure == "unreachable":
        options["revocation_url"] = "http://127.0.0.1:9/revoke"
    elif failure == "none":
        options["revocation_url"] = None
    tokens = UpstreamTokens(access_token="at-9", refresh_token="rt-9")
    assert make(upstream, **options).revoke(tokens) is None
    if failure != "none":
        assert any(r.levelno >= logging.INFO for r in caplog.records)


def test_identity_from_userinfo(upstream):
    upstream.recorded("GET", USERINFO, "google/userinfo.json")
    provider = make(upstream)
    tokens = UpstreamTokens(access_token="at-userinfo")
    identity = provider.identity(tokens)
    assert identity["sub"] == "110169484474386276334"
    (seen,) = upstream.requests_to(USERINFO)
    assert seen.headers["Authorization"] == "Bearer at-userinfo"
    session = provider.session(
        tokens, identity, scopes=frozenset({"tools"}), client_id="mcp-app"
    )
    assert type(session) is OAuthSession
    assert session.subject == "110169484474386276334"
    assert session.email == "jsmith@example.com" and session.name == "Jane Smith"
    assert session.scopes == frozenset({"tools"}) and session.client_id == "mcp-app"
    assert "at-userinfo" not in repr(session)


def test_identity_takes_a_numeric_id_as_subject(upstream):
    upstream.reply("GET", USERINFO, '{"id": 42, "name": "n"}')
    assert make(upstream).identity(UpstreamTokens(access_token="at"))["sub"] == "42"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ('{"name": "no subject"}', 200, "server_error"),
        ("[]", 200, "server_error"),
        ("<html>oops</html>", 200, "server_error"),
        ('{"error": "invalid_token"}', 401, "invalid_token"),
        ("", 401, "invalid_token"),
        ('{"error": "insufficient_scope"}', 403, "insufficient_scope"),
        ("", 500, "server_error"),
    ],
)
def test_identity_failures(upstream, body, status, error):
    upstream.reply("GET", USERINFO, body, status)
    with pytest.raises(UpstreamError) as caught:
        make(upstream).identity(UpstreamTokens(access_token="at"))
    assert caught.value.error == error


def test_identity_needs_a_userinfo_endpoint(upstream):
    with pytest.raises(UpstreamError, match="userinfo"):
        make(upstream, userinfo_url=None).identity(UpstreamTokens(access_token="a"))


def test_an_unverified_email_is_left_out_of_the_session(upstream):
    provider = make(upstream)
    identity = {"sub": "1", "email": "x@example.com", "email_verified": False}
    session = provider.session(
        UpstreamTokens(access_token="at"), identity, scopes=frozenset(), client_id="c"
    )
    assert session.email is None and session.claims["email"] == "x@example.com"


@pytest.mark.parametrize(
    "options",
    [
        {"authorize_url": ""},
        {"token_url": ""},
        {"client_id": ""},
        {"base_url": ""},
        {"client_secret": ""},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"timeout": 0},
    ],
)
def test_bad_configuration_is_refused_at_construction(upstream, options):
    with pytest.raises(ValueError):
        make(upstream, **options)


def test_provider_name_and_repr(upstream):
    provider = make(upstream, name="acme")
    assert provider.name == "acme"
    assert CLIENT_SECRET not in repr(provider) and "acme" in repr(provider)


def test_failures_are_logged_without_tokens(upstream, caplog):
    """Every failure path logs (so the autouse no_secret_in_logs check of
    conftest.py has records to inspect), none with a token or secret."""
    provider = make(upstream, timeout=0.3)
    upstream.recorded("POST", TOKEN, "github/error-bad_verification_code.form")
    upstream.recorded("GET", USERINFO, "github/bad-credentials.json", 401)
    upstream.hang("POST", REVOKE)
    tokens = UpstreamTokens(access_token=GITHUB_TOKEN, refresh_token="ghr_secret")
    for call in (
        lambda: provider.exchange_code(code=CODE, code_verifier=VERIFIER),
        lambda: provider.refresh("ghr_secret"),
        lambda: provider.identity(tokens),
    ):
        with pytest.raises(UpstreamError):
            call()
    provider.revoke(tokens)
    ours = [r for r in caplog.records if r.name.startswith("flask_mcp")]
    assert len(ours) >= 4
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (GITHUB_TOKEN, "ghr_secret", CODE, VERIFIER, CLIENT_SECRET):
        assert secret not in text
