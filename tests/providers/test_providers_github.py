"""GitHubProvider against recorded GitHub responses: JSON and form-encoded
token responses, errors sent with HTTP 200, comma-separated scopes, the user
and e-mail APIs, token deletion, failures."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from flask_mcp.auth.providers import GitHubProvider
from flask_mcp.auth.providers import GitHubSession
from flask_mcp.auth.providers import UpstreamError
from flask_mcp.auth.providers import UpstreamTokens

from .upstream import BASE_URL
from .upstream import CHALLENGE
from .upstream import CLIENT_SECRET
from .upstream import CODE
from .upstream import VERIFIER
from .upstream import Upstream
from .upstream import load

CLIENT_ID = "Iv1.8a61f9b3a7aba766"
AUTHORIZE = "https://github.com/login/oauth/authorize"
TOKEN = "https://github.com/login/oauth/access_token"
USER = "https://api.github.com/user"
EMAILS = "https://api.github.com/user/emails"
DELETE_TOKEN = f"https://api.github.com/applications/{CLIENT_ID}/token"
ACCESS_TOKEN = "gho_16C7e42F292c6912E7710c838347Ae178B4a"


def make(upstream: Upstream, **options) -> GitHubProvider:
    return GitHubProvider(
        base_url=BASE_URL,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        github_url=upstream.local("https://github.com"),
        api_url=upstream.local("https://api.github.com"),
        timeout=options.pop("timeout", 2.0),
        **options,
    )


@pytest.fixture
def github(upstream):
    return make(upstream)


def tokens(*scopes: str) -> UpstreamTokens:
    return UpstreamTokens(access_token=ACCESS_TOKEN, scopes=scopes)


def test_defaults_are_githubs_endpoints():
    provider = GitHubProvider(base_url=BASE_URL, client_id=CLIENT_ID, client_secret="s")
    assert provider.endpoint("authorization_endpoint") == AUTHORIZE
    assert provider.endpoint("token_endpoint") == TOKEN
    assert provider.endpoint("userinfo_endpoint") == USER
    assert provider.scopes == ("read:user", "user:email")


def test_authorization_url(upstream, github):
    url = github.authorization_url(state="st", code_verifier=VERIFIER)
    assert url.startswith(upstream.local(AUTHORIZE) + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params["scope"] == "read:user user:email"  # GitHub: space-delimited
    assert params["code_challenge"] == CHALLENGE
    assert params["client_id"] == CLIENT_ID and params["state"] == "st"
    assert "nonce" not in params  # not OpenID Connect


@pytest.mark.parametrize("kind", ["json", "form"])
def test_token_response_json_or_form_encoded(upstream, github, kind):
    upstream.recorded("POST", TOKEN, f"github/token.{kind}")
    result = github.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert result.access_token == ACCESS_TOKEN
    assert result.scopes == ("read:user", "user:email")  # comma-separated answer
    assert result.token_type == "Bearer"
    assert result.expires_at is None  # OAuth app tokens do not expire
    assert result.refresh_token is None and result.id_token is None
    (seen,) = upstream.requests_to(TOKEN)
    assert seen.headers["Accept"] == "application/json"
    assert seen.form["client_id"] == CLIENT_ID
    assert seen.form["client_secret"] == CLIENT_SECRET
    assert seen.form["code_verifier"] == VERIFIER


@pytest.mark.parametrize("kind", ["json", "form"])
def test_expiring_user_tokens_of_github_apps(upstream, github, kind):
    upstream.recorded("POST", TOKEN, f"github/token-expiring.{kind}")
    result = github.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert result.expires_at == pytest.approx(time.time() + 28800, abs=5)
    assert result.refresh_token and result.refresh_token.startswith("ghr_")
    assert result.scopes == ()


def test_refresh_of_an_expiring_token(upstream, github):
    upstream.recorded("POST", TOKEN, "github/token-expiring.json")
    result = github.refresh("ghr_old")
    assert result.refresh_token and result.refresh_token.startswith("ghr_1B4a")
    (seen,) = upstream.requests_to(TOKEN)
    assert seen.form["grant_type"] == "refresh_token"
    assert seen.form["refresh_token"] == "ghr_old"


@pytest.mark.parametrize("kind", ["json", "form"])
def test_errors_sent_with_http_200(upstream, github, kind):
    upstream.recorded("POST", TOKEN, f"github/error-bad_verification_code.{kind}")
    with pytest.raises(UpstreamError) as caught:
        github.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "bad_verification_code"
    assert caught.value.description == "The code passed is incorrect or expired."


def test_incorrect_client_credentials(upstream, github):
    upstream.recorded("POST", TOKEN, "github/error-incorrect_client_credentials.json")
    with pytest.raises(UpstreamError) as caught:
        github.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "incorrect_client_credentials"
    assert CLIENT_SECRET not in str(caught.value)


def test_missing_expires_in_and_scope(upstream, github):
    upstream.reply(
        "POST",
        TOKEN,
        f"access_token={ACCESS_TOKEN}&token_type=bearer",
        content_type="application/x-www-form-urlencoded",
    )
    result = github.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert result.expires_at is None
    assert result.scopes == ("read:user", "user:email")  # as requested


@pytest.mark.parametrize(
    ("name", "status"), [("gateway/502.html", 502), ("gateway/429.txt", 429)]
)
def test_non_json_errors(upstream, github, name, status):
    upstream.recorded("POST", TOKEN, name, status)
    with pytest.raises(UpstreamError) as caught:
        github.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "server_error"


@pytest.mark.parametrize("slow", [TOKEN, USER])
def test_upstream_timeout(upstream, slow):
    method = "POST" if slow == TOKEN else "GET"
    upstream.hang(method, slow)
    provider = make(upstream, timeout=0.3)
    with pytest.raises(UpstreamError) as caught:
        if slow == TOKEN:
            provider.exchange_code(code=CODE, code_verifier=VERIFIER)
        else:
            provider.identity(tokens("read:user"))
    assert caught.value.error == "temporarily_unavailable"


def test_identity_with_the_primary_verified_email(upstream, github):
    upstream.recorded("GET", USER, "github/user.json")
    upstream.recorded("GET", EMAILS, "github/user-emails.json")
    identity = github.identity(tokens("read:user", "user:email"))
    assert identity["sub"] == "583231"  # the numeric id, as a string
    assert identity["login"] == "octocat"
    assert identity["email"] == "octocat@github.com"
    assert identity["email_verified"] is True
    for seen in upstream.requests_to(USER) + upstream.requests_to(EMAILS):
        assert seen.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
        assert seen.headers["Accept"] == "application/vnd.github+json"
        assert seen.headers["X-Github-Api-Version"] == "2022-11-28"


def test_session(upstream, github):
    upstream.recorded("GET", USER, "github/user.json")
    upstream.recorded("GET", EMAILS, "github/user-emails.json")
    result = tokens("read:user", "user:email")
    session = github.session(
        result, github.identity(result), scopes=frozenset({"repo:read"}), client_id="c"
    )
    assert isinstance(session, GitHubSession)
    assert session.subject == "583231" and session.login == "octocat"
    assert session.avatar_url == "https://avatars.githubusercontent.com/u/583231?v=4"
    assert session.name == "The Octocat" and session.email == "octocat@github.com"


def test_a_public_email_is_checked_against_the_verified_ones(upstream, github):
    user = load("github/user.json") | {"email": "old-address@example.org"}
    upstream.reply("GET", USER, json.dumps(user))
    upstream.recorded("GET", EMAILS, "github/user-emails.json")
    identity = github.identity(tokens("user:email"))
    assert identity["email"] == "old-address@example.org"
    assert identity["email_verified"] is False
    session = github.session(tokens(), identity, scopes=frozenset(), client_id="c")
    assert session.email is None


def test_without_the_email_scope_the_public_email_is_kept(upstream, github):
    user = load("github/user.json") | {"email": "octocat@github.com"}
    upstream.reply("GET", USER, json.dumps(user))
    identity = github.identity(tokens("read:user"))
    assert identity["email"] == "octocat@github.com"
    assert identity["email_verified"] is None
    assert upstream.requests_to(EMAILS) == []


def test_emails_forbidden_leaves_the_email_out(upstream, github):
    upstream.recorded("GET", USER, "github/user.json")
    upstream.recorded("GET", EMAILS, "github/emails-forbidden.json", 403)
    identity = github.identity(tokens())  # a GitHub App token: no scopes
    assert identity["email"] is None and identity["sub"] == "583231"


def test_bad_credentials(upstream, github):
    upstream.recorded("GET", USER, "github/bad-credentials.json", 401)
    with pytest.raises(UpstreamError) as caught:
        github.identity(tokens("read:user"))
    assert (caught.value.error, caught.value.description) == (
        "invalid_token",
        "Bad credentials",
    )


@pytest.mark.parametrize("body", ['{"login": "no-id"}', '{"id": "583231"}', "[]"])
def test_a_user_without_a_numeric_id_is_refused(upstream, github, body):
    upstream.reply("GET", USER, body)
    with pytest.raises(UpstreamError, match="without an id"):
        github.identity(tokens("read:user"))


def test_revoke_deletes_the_token(upstream, github):
    upstream.reply("DELETE", DELETE_TOKEN, "", 204)
    github.revoke(UpstreamTokens(access_token=ACCESS_TOKEN))
    (seen,) = upstream.requests_to(DELETE_TOKEN)
    assert seen.method == "DELETE"
    assert seen.json == {"access_token": ACCESS_TOKEN}
    credentials = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {credentials}"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("github/revoke-not-found.json", 404),
        ("github/revoke-validation-failed.json", 422),
    ],
)
def test_revoke_failures_are_not_raised(upstream, github, caplog, name, status):
    upstream.recorded("DELETE", DELETE_TOKEN, name, status)
    github.revoke(UpstreamTokens(access_token=ACCESS_TOKEN))
    assert len(upstream.requests_to(DELETE_TOKEN)) == 1
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert bool(refused) is (status == 422)  # 404: the token is gone already


def test_revoke_timeout_is_not_raised(upstream):
    upstream.hang("DELETE", DELETE_TOKEN)
    make(upstream, timeout=0.3).revoke(UpstreamTokens(access_token=ACCESS_TOKEN))
