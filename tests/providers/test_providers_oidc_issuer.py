"""OIDCProvider against a real issuer (oauth2-mock-server on loopback): the
whole login leg, authorization URL -> /authorize (which redirects straight back
with a code) -> code exchange (PKCE checked by the issuer) -> verified ID
token -> identity; then refresh and revocation."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from flask_mcp.auth.providers import OAuthSession
from flask_mcp.auth.providers import OIDCProvider
from flask_mcp.auth.providers import UpstreamError

from .upstream import BASE_URL
from .upstream import CLIENT_SECRET
from .upstream import SECRETS


def make(mock_issuer, discovery, **options) -> OIDCProvider:
    return OIDCProvider(
        issuer=mock_issuer.issuer,
        base_url=BASE_URL,
        client_id="flask-mcp-proxy",
        client_secret=CLIENT_SECRET,
        discovery=discovery,
        timeout=5.0,
        **options,
    )


def login(provider: OIDCProvider) -> tuple[str, str, str]:
    """Run the browser's part: follow the authorization URL to the issuer,
    which redirects back to our callback. Returns (code, state, verifier)."""
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(16)
    SECRETS.add(verifier)
    url = provider.authorization_url(state=state, code_verifier=verifier)
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(provider.redirect_uri + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["state"] == state
    SECRETS.add(params["code"])
    return params["code"], state, verifier


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_login_against_a_real_issuer(mock_issuer, discovery, method):
    provider = make(mock_issuer, discovery, token_endpoint_auth_method=method)
    code, _, verifier = login(provider)
    tokens = provider.exchange_code(code=code, code_verifier=verifier)
    SECRETS.update(
        filter(None, (tokens.access_token, tokens.refresh_token, tokens.id_token))
    )
    assert tokens.id_token and tokens.refresh_token
    assert tokens.token_type == "Bearer" and tokens.expires_at
    # The issuer put the nonce sent with the authorization request into the
    # ID token; exchange_code verified it.
    claims = provider.verify_id_token(tokens.id_token, provider.nonce(verifier))
    assert claims["aud"] == "flask-mcp-proxy"  # from the client authentication
    identity = provider.identity(tokens)
    assert identity["sub"] == "johndoe"
    assert identity["iss"] == mock_issuer.issuer
    session = provider.session(
        tokens, identity, scopes=frozenset({"tools"}), client_id="mcp-client"
    )
    assert type(session) is OAuthSession and session.subject == "johndoe"


def test_the_issuer_checks_pkce(mock_issuer, discovery):
    provider = make(mock_issuer, discovery)
    code, _, _ = login(provider)
    other = secrets.token_urlsafe(48)
    SECRETS.add(other)
    with pytest.raises(UpstreamError) as caught:
        provider.exchange_code(code=code, code_verifier=other)
    assert caught.value.error == "server_error"
    assert "HTTP 400" in str(caught.value)


def test_the_id_token_carries_the_nonce_of_its_own_leg(mock_issuer, discovery):
    provider = make(mock_issuer, discovery)
    code, _, verifier = login(provider)
    tokens = provider.exchange_code(code=code, code_verifier=verifier)
    SECRETS.update(
        filter(None, (tokens.access_token, tokens.refresh_token, tokens.id_token))
    )
    assert tokens.id_token
    with pytest.raises(UpstreamError, match="nonce"):
        provider.verify_id_token(
            tokens.id_token, provider.nonce(secrets.token_urlsafe(48))
        )


def test_userinfo_refresh_and_revoke(mock_issuer, discovery):
    provider = make(mock_issuer, discovery, fetch_userinfo=True)
    code, _, verifier = login(provider)
    tokens = provider.exchange_code(code=code, code_verifier=verifier)
    SECRETS.update(
        filter(None, (tokens.access_token, tokens.refresh_token, tokens.id_token))
    )
    assert provider.identity(tokens)["sub"] == "johndoe"  # userinfo agrees
    refreshed = provider.refresh(tokens.refresh_token or "")
    SECRETS.update(filter(None, (refreshed.access_token, refreshed.refresh_token)))
    assert refreshed.refresh_token and refreshed.refresh_token != tokens.refresh_token
    assert provider.identity(refreshed)["sub"] == "johndoe"
    provider.revoke(refreshed)  # 200 from the issuer: nothing raised


def test_without_nonce(mock_issuer, discovery):
    provider = make(mock_issuer, discovery, use_nonce=False)
    code, _, verifier = login(provider)
    tokens = provider.exchange_code(code=code, code_verifier=verifier)
    SECRETS.update(
        filter(None, (tokens.access_token, tokens.refresh_token, tokens.id_token))
    )
    assert tokens.id_token and "nonce" not in provider.verify_id_token(tokens.id_token)


def test_endpoints_come_from_discovery_on_first_use(mock_issuer, discovery):
    provider = make(mock_issuer, discovery)
    assert not discovery.has(provider.configuration_url)  # nothing fetched yet
    assert provider.endpoint("token_endpoint") == mock_issuer.issuer + "/token"
    assert discovery.has(provider.configuration_url)


def test_explicit_endpoints_override_discovery(mock_issuer, discovery):
    provider = make(mock_issuer, discovery, token_url="http://127.0.0.1:9/token")
    assert provider.endpoint("token_endpoint") == "http://127.0.0.1:9/token"
    code, _, verifier = login(provider)
    with pytest.raises(UpstreamError) as caught:
        provider.exchange_code(code=code, code_verifier=verifier)
    assert caught.value.error == "temporarily_unavailable"
