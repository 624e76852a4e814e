"""MicrosoftProvider against recorded Microsoft identity platform responses:
the multi-tenant ``{tenantid}`` issuer checked against ``tid``, a single
tenant, allowed tenants, session fields, refresh with scopes, failures."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest

from flask_mcp.auth.providers import MicrosoftProvider
from flask_mcp.auth.providers import MicrosoftSession
from flask_mcp.auth.providers import UpstreamError
from flask_mcp.auth.providers import UpstreamTokens

from .upstream import BASE_URL
from .upstream import CLIENT_SECRET
from .upstream import CODE
from .upstream import VERIFIER
from .upstream import Keys
from .upstream import Upstream
from .upstream import claims
from .upstream import load

CLIENT_ID = "6cb04018-a3f5-46a7-b995-940c78f5aef3"
AUTHORITY = "https://login.microsoftonline.com"
COMMON = AUTHORITY + "/common/v2.0/.well-known/openid-configuration"
TOKEN = AUTHORITY + "/common/oauth2/v2.0/token"
AUTHORIZE = AUTHORITY + "/common/oauth2/v2.0/authorize"
JWKS = AUTHORITY + "/common/discovery/v2.0/keys"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
USER_TENANT = "9122040d-6c67-4c5b-b112-36a304b66dad"
KID = "JDNa_4i4r7FgigL3sHIlI3xV-IU"


def make(upstream: Upstream, discovery, **options) -> MicrosoftProvider:
    return MicrosoftProvider(
        base_url=BASE_URL,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        authority=upstream.local(AUTHORITY),
        discovery=discovery,
        timeout=options.pop("timeout", 2.0),
        **options,
    )


@pytest.fixture
def microsoft(upstream, discovery, keys):
    upstream.recorded(
        "GET", COMMON, "microsoft/openid-configuration-common.json", rewrite=True
    )
    upstream.reply("GET", JWKS, keys.jwks("microsoft/jwks.json"))
    return make(upstream, discovery)


def id_token(upstream: Upstream, keys: Keys, provider, tid=USER_TENANT, **changes):
    changes.setdefault("iss", upstream.local(f"{AUTHORITY}/{tid}/v2.0"))
    changes.setdefault("nonce", provider.nonce(VERIFIER))
    return keys.sign(claims("microsoft/id_token_claims.json", tid=tid, **changes), KID)


def test_defaults():
    provider = MicrosoftProvider(
        base_url=BASE_URL, client_id=CLIENT_ID, client_secret="s"
    )
    assert provider.issuer == "https://login.microsoftonline.com/common/v2.0"
    assert provider.scopes == (
        "openid",
        "email",
        "profile",
        "offline_access",
        "User.Read",
    )
    single = MicrosoftProvider(
        base_url=BASE_URL, client_id=CLIENT_ID, client_secret="s", tenant=TENANT
    )
    assert (
        single.configuration_url
        == f"{AUTHORITY}/{TENANT}/v2.0/.well-known/openid-configuration"
    )
    with pytest.raises(ValueError):
        MicrosoftProvider(
            base_url=BASE_URL, client_id="c", client_secret="s", tenant="a/b"
        )


def test_authorization_url(upstream, microsoft):
    url = microsoft.authorization_url(state="st", code_verifier=VERIFIER)
    assert url.startswith(upstream.local(AUTHORIZE) + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params["scope"] == "openid email profile offline_access User.Read"
    assert params["nonce"] == microsoft.nonce(VERIFIER)
    assert params["code_challenge_method"] == "S256"


def test_flow_with_the_multi_tenant_issuer(upstream, keys, microsoft):
    upstream.recorded(
        "POST",
        TOKEN,
        "microsoft/token.json",
        id_token=id_token(upstream, keys, microsoft),
    )
    tokens = microsoft.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert tokens.scopes == ("openid", "profile", "email", "User.Read")
    assert tokens.expires_at == pytest.approx(time.time() + 4753, abs=5)
    assert tokens.refresh_token == load("microsoft/token.json")["refresh_token"]
    identity = microsoft.identity(tokens)
    assert identity["sub"] == "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ"
    session = microsoft.session(
        tokens, identity, scopes=frozenset({"mcp"}), client_id="mcp-client"
    )
    assert isinstance(session, MicrosoftSession)
    assert session.tenant_id == USER_TENANT
    assert session.oid == "00000000-0000-0000-66f3-3332eca7ea81"
    assert session.roles == frozenset({"Reader", "Tools.Invoke"})
    assert session.upn == "abeli@contoso.com"  # preferred_username: no upn claim
    assert session.name == "Abe Lincoln" and session.email == "AbeLi@contoso.com"


def test_upn_claim_wins(upstream, keys, microsoft):
    token = id_token(
        upstream, keys, microsoft, upn="abe@contoso.onmicrosoft.com", roles=None
    )
    result = UpstreamTokens(access_token="at", id_token=token)
    session = microsoft.session(
        result, microsoft.identity(result), scopes=frozenset(), client_id="c"
    )
    assert session.upn == "abe@contoso.onmicrosoft.com" and session.roles == frozenset()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        # A token of one tenant claiming another tenant's issuer.
        ({"iss": f"{AUTHORITY}/{TENANT}/v2.0"}, "iss"),
        ({"tid": "not-a-tenant-id"}, "no issuer"),
        ({"tid": None}, "no issuer"),
        ({"aud": "00000003-0000-0000-c000-000000000000"}, "aud"),
        ({"nonce": "replayed"}, "nonce"),
    ],
)
def test_multi_tenant_issuer_is_checked_against_tid(
    upstream, keys, microsoft, changes, reason
):
    tid = changes.pop("tid", USER_TENANT)
    if "iss" in changes:
        changes["iss"] = upstream.local(changes["iss"])
    if tid is None:
        # Keep an issuer that would match some tenant, but no tid claim.
        token_claims = claims(
            "microsoft/id_token_claims.json",
            iss=upstream.local(f"{AUTHORITY}/{USER_TENANT}/v2.0"),
            nonce=microsoft.nonce(VERIFIER),
            tid=None,
        )
        token = keys.sign(token_claims, KID)
    else:
        token = id_token(upstream, keys, microsoft, tid=tid, **changes)
    upstream.recorded("POST", TOKEN, "microsoft/token.json", id_token=token)
    with pytest.raises(UpstreamError) as caught:
        microsoft.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "invalid_token"
    assert reason in str(caught.value)


def test_a_single_tenant(upstream, keys, discovery):
    configuration = f"{AUTHORITY}/{TENANT}/v2.0/.well-known/openid-configuration"
    upstream.recorded(
        "GET", configuration, "microsoft/openid-configuration-tenant.json", rewrite=True
    )
    upstream.reply(
        "GET",
        f"{AUTHORITY}/{TENANT}/discovery/v2.0/keys",
        keys.jwks("microsoft/jwks.json"),
    )
    provider = make(upstream, discovery, tenant=TENANT)
    own = id_token(upstream, keys, provider, tid=TENANT, nonce=None)
    assert (
        provider.identity(UpstreamTokens(access_token="a", id_token=own))["tid"]
        == TENANT
    )
    foreign = id_token(upstream, keys, provider, tid=USER_TENANT, nonce=None)
    with pytest.raises(UpstreamError, match="iss"):
        provider.identity(UpstreamTokens(access_token="a", id_token=foreign))


def test_allowed_tenants(upstream, keys, discovery, microsoft):
    provider = make(upstream, discovery, allowed_tenants=[TENANT])
    token = id_token(upstream, keys, provider)
    with pytest.raises(UpstreamError) as caught:
        provider.identity(UpstreamTokens(access_token="at", id_token=token))
    assert caught.value.error == "access_denied"
    provider = make(upstream, discovery, allowed_tenants=[TENANT, USER_TENANT])
    assert provider.identity(UpstreamTokens(access_token="at", id_token=token))["sub"]


def test_a_discovery_document_of_another_authority_is_refused(upstream, discovery):
    document = json.dumps(load("microsoft/openid-configuration-common.json"))
    upstream.reply("GET", COMMON, document)  # its issuer names the real authority
    with pytest.raises(UpstreamError) as caught:
        make(upstream, discovery).authorization_url(state="s", code_verifier=VERIFIER)
    assert caught.value.error == "server_error"


def test_refresh_repeats_the_scopes(upstream, microsoft):
    upstream.recorded("POST", TOKEN, "microsoft/token-refresh.json")
    tokens = microsoft.refresh("1.AXkA-old")
    assert tokens.refresh_token and "rotated" in tokens.refresh_token
    assert tokens.id_token is None
    (seen,) = upstream.requests_to(TOKEN)
    assert seen.form["scope"] == "openid email profile offline_access User.Read"
    assert seen.form["refresh_token"] == "1.AXkA-old"


def test_refresh_refused(upstream, microsoft):
    upstream.recorded("POST", TOKEN, "microsoft/error-invalid_grant.json", 400)
    with pytest.raises(UpstreamError) as caught:
        microsoft.refresh("1.AXkA-old")
    assert caught.value.error == "invalid_grant"
    assert caught.value.description and caught.value.description.startswith(
        "AADSTS70008"
    )


def test_no_revocation_endpoint(upstream, microsoft, caplog):
    microsoft.revoke(UpstreamTokens(access_token="at", refresh_token="rt"))
    assert [s.path for s in upstream.seen] == [urlsplit(upstream.local(COMMON)).path]


def test_missing_expires_in(upstream, keys, microsoft):
    body = load("microsoft/token.json") | {
        "id_token": id_token(upstream, keys, microsoft)
    }
    del body["expires_in"], body["ext_expires_in"]
    upstream.reply("POST", TOKEN, json.dumps(body))
    assert microsoft.exchange_code(code=CODE, code_verifier=VERIFIER).expires_at is None


def test_form_encoded_token_response(upstream, keys, microsoft):
    body = load("microsoft/token.json") | {
        "id_token": id_token(upstream, keys, microsoft)
    }
    upstream.reply(
        "POST", TOKEN, urlencode(body), content_type="application/x-www-form-urlencoded"
    )
    tokens = microsoft.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert tokens.expires_at == pytest.approx(time.time() + 4753, abs=5)
    assert tokens.scopes == ("openid", "profile", "email", "User.Read")


@pytest.mark.parametrize(
    ("name", "status"), [("gateway/502.html", 502), ("gateway/503.txt", 503)]
)
def test_non_json_errors(upstream, microsoft, name, status):
    upstream.recorded("POST", TOKEN, name, status)
    with pytest.raises(UpstreamError) as caught:
        microsoft.exchange_code(code=CODE, code_verifier=VERIFIER)
    assert caught.value.error == "server_error"


def test_upstream_timeout(upstream, discovery):
    upstream.recorded(
        "GET", COMMON, "microsoft/openid-configuration-common.json", rewrite=True
    )
    upstream.hang("POST", TOKEN)
    with pytest.raises(UpstreamError) as caught:
        make(upstream, discovery, timeout=0.3).refresh("1.AXkA-old")
    assert caught.value.error == "temporarily_unavailable"
