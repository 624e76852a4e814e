"""GoogleProvider against recorded Google responses: discovery, offline
access, ID token verification (signature, iss, aud, exp, nonce), hosted
domain, userinfo, refresh, revocation, failures."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from flask_mcp.auth.providers import GoogleProvider
from flask_mcp.auth.providers import GoogleSession
from flask_mcp.auth.providers import UpstreamError
from flask_mcp.auth.providers import UpstreamTokens

from .upstream import BASE_URL
from .upstream import CLIENT_SECRET
from .upstream import CODE
from .upstream import RECORDED
from .upstream import VERIFIER
from .upstream import Keys
from .upstream import Upstream
from .upstream import claims
from .upstream import load

CLIENT_ID = "1234987819200-okjsdlfsdfkjalskdjf.apps.googleusercontent.com"
ISSUER = "https://accounts.google.com"
CONFIGURATION = ISSUER + "/.well-known/openid-configuration"
AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN = "https://oauth2.googleapis.com/token"
JWKS = "https://www.googleapis.com/oauth2/v3/certs"
USERINFO = "https://openidconnect.googleapis.com/v1/userinfo"
REVOKE = "https://oauth2.googleapis.com/revoke"
KID = "a3b762f871cdb3bae0044c649622fc1396eda3e3"
OTHER_VERIFIER = "M25iVXpKU3puUjFaYWg3T1NDTDQtcW1ROUY5YXlwalNoc0hhakxifmZHag"


@pytest.fixture
def google(upstream, discovery, keys):
    upstream.recorded(
        "GET", CONFIGURATION, "google/openid-configuration.json", rewrite=True
    )
    upstream.reply("GET", JWKS, keys.jwks("google/jwks.json"))
    return make(upstream, discovery)


def make(upstream: Upstream, discovery, **options) -> GoogleProvider:
    return GoogleProvider(
        base_url=BASE_URL,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        issuer=upstream.local(ISSUER),
        discovery=discovery,
        timeout=options.pop("timeout", 2.0),
        **options,
    )


def nonce_of(verifier: str) -> str:
    """The nonce a GoogleProvider sends along with this verifier."""
    provider = GoogleProvider(base_url=BASE_URL, client_id=CLIENT_ID, client_secret="s")
    return provider.nonce(verifier)


def id_token(upstream: Upstream, keys: Keys, *, kid: str = KID, **changes) -> str:
    changes.setdefault("iss", upstream.local(ISSUER))
    changes.setdefault("nonce", nonce_of(VERIFIER))
    return keys.sign(claims("google/id_token_claims.json", **changes), kid)


def serve_tokens(upstream, keys, name="google/token.json", **changes) -> str:
    token = id_token(upstream, keys, **changes)
    upstream.recorded("POST", TOKEN, name, id_token=token)
    return token


def test_construction_needs_no_network(upstream, discovery):
    make(upstream, discovery)
    GoogleProvider(base_url=BASE_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert upstream.seen == []


def test_authorization_url_asks_for_offline_access_and_a_nonce(upstream, google):
    url = google.authorization_url(state="st", code_verifier=VERIFIER)
    assert url.startswith(upstream.local(AUTHORIZE) + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params["access_type"] == "offline" and params["prompt"] == "consent"
    assert params["scope"] == "openid email profile"
    assert params["nonce"] == google.nonce(VERIFIER) != google.nonce(OTHER_VERIFIER)
    assert params["code_challenge_method"] == "S256"
    assert params["redirect_uri"] == BASE_URL + "/oauth/callback"
    assert VERIFIER not in url


def test_online_access_and_hosted_domain(upstream, google, discovery):
    provider = make(upstream, discovery, offline_access=False, hosted_domain="ex.com")
    params = parse_qs(
        urlsplit(provider.authorization_url(state="s", code_verifier=VERIFIER)).query
    )
    assert "access_type" not in params and "prompt" not in params
    assert params["hd"] == ["ex.com"]


def test_code_exchange_identity_and_session(upstream, keys, google):
    raw_id_token = serve_tokens(upstream, keys)
    tokens = google.exchange_code(code=CODE, code_verifier=VERIFIER)
    recorded = load("google/token.json")
    assert tokens.access_token == recorded["access_token"]
    assert tokens.refresh_token == recorded["refresh_token"]
    assert tokens.id_token == raw_id_token
    assert tokens.expires_at == pytest.approx(time.time() + 3599, abs=5)
    assert tokens.scopes == (
        "https://www.googleapis.com/auth/userinfo.email",
        "openid",
        "https://www.googleapis.com/auth/userinfo.profile",
    )
    (seen,) = upstream.requests_to(TOKEN)
    assert seen.form["client_secret"] == CLIENT_SECRET
    assert seen.form["code_verifier"] == VERIFIER
    identity = google.identity(tokens)
    assert identity["sub"] == "110169484474386276334"
    assert identity["email"] == "jsmith@example.com"
    assert upstream.requests_to(USERINFO) == []  # the ID token sufficed
    session = google.session(
        tokens, identity, scopes=frozenset({"mcp"}), client_id="mcp-client"
    )
    assert isinstance(session, GoogleSession)
    assert session.subject == "110169484474386276334"
    assert session.email == "jsmith@example.com" and session.email_verified is True
    assert session.hd == "example.com" and session.name == "Jane Smith"
    assert session.picture and session.picture.startswith("https://lh3.")
    assert session.access_token == tokens.access_token
    assert tokens.access_token not in repr(session)
    # One fetch of the discovery document and of the JWK Set for all of it.
    assert len(upstream.requests_to(CONFIGURATION)) == 1
    assert len(upstream.requests_to(JWKS)) == 1


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"nonce": nonce_of(OTHER_VERIFIER)}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"aud": "someone-else.apps.googleusercontent.com"}, "aud"),
        ({"aud": [CLIENT_ID, "other"], "azp": "other"}, "azp"),
        ({"iss": "https://evil.example.com"}, "iss"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"iat": int(time.time()) + 3600}, "future"),
        ({"sub": None}, "sub"),
    ],
)
def test_bad_id_tokens_are_refused_at_the_exchange(
    upstream, keys, google, changes, reason
):
    serve_tokens(upstream, keys, **changes)
    with pytest.raises(UpstreamError) as caught:
        google.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "invalid_token"
    assert reason in str(caught.value)


def test_an_id_token_signed_by_an_unknown_key_is_refused(upstream, keys, google):
    serve_tokens(upstream, keys, kid="rotated-away")
    with pytest.raises(UpstreamError, match="no RS256 key"):
        google.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert len(upstream.requests_to(JWKS)) == 2  # refetched once for the kid


def test_a_forged_signature_is_refused(upstream, keys, google):
    impostor = Keys()
    token = impostor.sign(
        claims("google/id_token_claims.json", iss=upstream.local(ISSUER)), KID
    )
    upstream.recorded("POST", TOKEN, "google/token.json", id_token=token)
    with pytest.raises(UpstreamError, match="signature"):
        google.exchange_code(code=CODE, code_verifier=VERIFIER)


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_unsigned_and_symmetric_id_tokens_are_refused(upstream, google, alg):
    header = json.dumps({"alg": alg, "kid": KID}).encode()
    body = json.dumps(claims("google/id_token_claims.json", iss=upstream.local(ISSUER)))

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    token = f"{b64(header)}.{b64(body.encode())}.{b64(b'sig')}"
    with pytest.raises(UpstreamError, match="alg"):
        google.identity(UpstreamTokens(access_token="at", id_token=token))


def test_identity_after_refresh_needs_no_nonce(upstream, keys, google):
    token = id_token(upstream, keys, nonce=None)
    upstream.recorded("POST", TOKEN, "google/token-refresh.json", id_token=token)
    tokens = google.refresh("1//0gLk2pX9eQv3WCgYIARAAGBASNwF")
    assert tokens.refresh_token == "1//0gLk2pX9eQv3WCgYIARAAGBASNwF"  # kept
    assert google.identity(tokens)["sub"] == "110169484474386276334"
    (seen,) = upstream.requests_to(TOKEN)
    assert seen.form["grant_type"] == "refresh_token" and "scope" not in seen.form


def test_identity_without_id_token_reads_userinfo(upstream, google):
    upstream.recorded("GET", USERINFO, "google/userinfo.json")
    identity = google.identity(UpstreamTokens(access_token="ya29.at"))
    assert (
        identity["sub"] == "110169484474386276334" and identity["hd"] == "example.com"
    )
    assert (
        upstream.requests_to(USERINFO)[0].headers["Authorization"] == "Bearer ya29.at"
    )


def test_fetch_userinfo_merges_and_checks_the_subject(
    upstream, keys, discovery, google
):
    provider = make(upstream, discovery, fetch_userinfo=True)
    token = id_token(upstream, keys, name="From ID token")
    upstream.recorded("GET", USERINFO, "google/userinfo.json")
    identity = provider.identity(UpstreamTokens(access_token="at", id_token=token))
    assert identity["name"] == "From ID token"  # the signed claims win
    assert identity["given_name"] == "Jane"
    upstream.reply("GET", USERINFO, '{"sub": "someone-else"}')
    with pytest.raises(UpstreamError, match="another subject"):
        provider.identity(UpstreamTokens(access_token="at", id_token=token))


@pytest.mark.parametrize(
    ("hosted_domain", "hd", "allowed"),
    [
        ("example.com", "example.com", True),
        ("example.com", "evil.com", False),
        ("example.com", None, False),
        ("*", "anything.org", True),
        ("*", None, False),
    ],
)
def test_hosted_domain_is_checked_on_the_id_token(
    upstream, keys, discovery, google, hosted_domain, hd, allowed
):
    provider = make(upstream, discovery, hosted_domain=hosted_domain)
    token = id_token(upstream, keys, hd=hd)
    tokens = UpstreamTokens(access_token="at", id_token=token)
    if allowed:
        assert provider.identity(tokens)["sub"]
    else:
        with pytest.raises(UpstreamError) as caught:
            provider.identity(tokens)
        assert caught.value.error == "access_denied"


def test_an_unverified_email_is_not_the_session_email(upstream, keys, google):
    token = id_token(upstream, keys, email_verified=False, hd=None)
    tokens = UpstreamTokens(access_token="at", id_token=token)
    session = google.session(
        tokens, google.identity(tokens), scopes=frozenset(), client_id="c"
    )
    assert session.email is None and session.email_verified is False
    assert session.hd is None


def test_revoke_posts_to_the_discovered_endpoint(upstream, google):
    upstream.reply("POST", REVOKE, "", 200)
    google.revoke(UpstreamTokens(access_token="ya29.x", refresh_token="1//0rt"))
    (seen,) = upstream.requests_to(REVOKE)
    assert seen.form["token"] == "1//0rt"


def test_revoke_survives_a_missing_discovery_document(upstream, discovery):
    make(upstream, discovery).revoke(UpstreamTokens(access_token="at"))


def test_invalid_grant(upstream, google):
    upstream.recorded("POST", TOKEN, "google/error-invalid_grant.json", 400)
    with pytest.raises(UpstreamError) as caught:
        google.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert (caught.value.error, caught.value.description) == (
        "invalid_grant",
        "Bad Request",
    )


def test_missing_expires_in(upstream, keys, google):
    body = load("google/token.json") | {"id_token": id_token(upstream, keys)}
    del body["expires_in"]
    upstream.reply("POST", TOKEN, json.dumps(body))
    assert google.exchange_code(code=CODE, code_verifier=VERIFIER).expires_at is None


@pytest.mark.parametrize(
    ("name", "status"), [("gateway/502.html", 502), ("gateway/503.txt", 503)]
)
def test_non_json_errors(upstream, google, name, status):
    upstream.recorded("POST", TOKEN, name, status)
    with pytest.raises(UpstreamError) as caught:
        google.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "server_error"


@pytest.mark.parametrize("slow", ["token", "discovery", "jwks"])
def test_upstream_timeouts(upstream, keys, discovery, slow):
    if slow == "discovery":
        upstream.hang("GET", CONFIGURATION)
    else:
        upstream.recorded(
            "GET", CONFIGURATION, "google/openid-configuration.json", rewrite=True
        )
    if slow == "jwks":
        upstream.hang("GET", JWKS)
        serve_tokens(upstream, keys)
    else:
        upstream.hang("POST", TOKEN)
    discovery.timeout = 0.3
    provider = make(upstream, discovery, timeout=0.3)
    with pytest.raises(UpstreamError) as caught:
        provider.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "temporarily_unavailable"


def test_discovery_of_another_issuer_is_refused(upstream, discovery):
    upstream.recorded(
        "GET", CONFIGURATION, "google/openid-configuration.json"
    )  # not rewritten
    with pytest.raises(UpstreamError) as caught:
        make(upstream, discovery).authorization_url(state="s", code_verifier=VERIFIER)
    assert caught.value.error == "server_error"


def test_discovery_failure_is_temporarily_unavailable(upstream, discovery):
    with pytest.raises(UpstreamError) as caught:
        make(upstream, discovery).authorization_url(state="s", code_verifier=VERIFIER)
    assert caught.value.error == "temporarily_unavailable"


def test_both_forms_of_googles_issuer_are_accepted():
    provider = GoogleProvider(base_url=BASE_URL, client_id=CLIENT_ID, client_secret="s")
    assert provider.accepted_issuers({}) == (ISSUER, "accounts.google.com")
    assert provider.issuer == ISSUER and provider.name == "google"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, ""),
        (401, '{"error": "invalid_token", "error_description": "wrong audience"}'),
        (403, '{"error": "insufficient_scope"}'),
    ],
)
def test_userinfo_refusing_the_token_falls_back_to_the_id_token(
    upstream, keys, discovery, google, caplog, status, body
):
    """Access tokens minted for another resource are refused at userinfo:
    the verified ID token says who the user is, with one warning."""
    provider = make(upstream, discovery, fetch_userinfo=True)
    token = id_token(upstream, keys, name="From ID token")
    upstream.reply("GET", USERINFO, body, status)
    identity = provider.identity(UpstreamTokens(access_token="at", id_token=token))
    assert identity["sub"] == "110169484474386276334"
    assert identity["name"] == "From ID token" and identity["email"]
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "userinfo endpoint refused the access token" in warnings[0].getMessage()


def test_userinfo_refusal_without_id_token_is_an_error(upstream, google):
    upstream.reply("GET", USERINFO, "", 401)
    with pytest.raises(UpstreamError) as caught:
        google.identity(UpstreamTokens(access_token="at"))
    assert (caught.value.error, caught.value.call) == (
        "invalid_token",
        "userinfo endpoint",
    )


def test_userinfo_failing_is_an_error_naming_it(upstream, keys, discovery, google):
    provider = make(upstream, discovery, fetch_userinfo=True)
    token = id_token(upstream, keys)
    upstream.recorded("GET", USERINFO, "gateway/502.html", 502)
    with pytest.raises(UpstreamError) as caught:
        provider.identity(UpstreamTokens(access_token="at", id_token=token))
    assert (caught.value.error, caught.value.call) == (
        "server_error",
        "userinfo endpoint",
    )


@pytest.mark.parametrize("supported", [True, False, None])
def test_identity_claims_asked_in_the_id_token(upstream, google, supported):
    """OpenID Connect Core 5.5, where the issuer advertises the parameter."""
    document = json.loads(
        upstream.rewrite((RECORDED / "google/openid-configuration.json").read_text())
    )
    if supported is not None:
        document["claims_parameter_supported"] = supported
    upstream.reply("GET", CONFIGURATION, json.dumps(document))
    url = google.authorization_url(state="st", code_verifier=VERIFIER)
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    if supported:
        assert json.loads(params["claims"]) == {
            "id_token": {
                "email": None,
                "email_verified": None,
                "name": None,
                "preferred_username": None,
                "picture": None,
            }
        }
    else:
        assert "claims" not in params


def test_an_explicit_authorization_endpoint_needs_no_discovery(upstream, discovery):
    provider = make(upstream, discovery, authorize_url=upstream.local(AUTHORIZE))
    url = provider.authorization_url(state="st", code_verifier=VERIFIER)
    assert url.startswith(upstream.local(AUTHORIZE) + "?") and "claims=" not in url
    assert upstream.seen == []
