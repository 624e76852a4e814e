"""Keycloak, Okta, Auth0, Cognito, GitLab and Entra ID (``AzureProvider``),
each against the test issuer set up the way that IdP behaves
(``support.oidc.flavours``): the whole login leg (authorization URL, the
issuer's redirect, code exchange with PKCE, verified ID token, identity),
the roles ``require_role`` reads, refresh and revocation, and the refusals
of each."""

from __future__ import annotations

import dataclasses
import secrets
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from flask_mcp.auth import require_role
from flask_mcp.auth.providers import Auth0Provider
from flask_mcp.auth.providers import AzureProvider
from flask_mcp.auth.providers import CognitoProvider
from flask_mcp.auth.providers import GitLabProvider
from flask_mcp.auth.providers import GitLabSession
from flask_mcp.auth.providers import KeycloakProvider
from flask_mcp.auth.providers import MicrosoftProvider
from flask_mcp.auth.providers import MicrosoftSession
from flask_mcp.auth.providers import OAuthSession
from flask_mcp.auth.providers import OIDCProvider
from flask_mcp.auth.providers import OktaProvider
from flask_mcp.auth.providers import UpstreamError
from support.oidc import Client
from support.oidc import OIDCIssuer
from support.oidc import User
from support.oidc import flavours

from .upstream import BASE_URL
from .upstream import SECRETS

CLIENT_ID = "mcp-proxy"
SECRET = "idp-client-secret-0123456789"
SECRETS.add(SECRET)
REDIRECT = BASE_URL + "/oauth/callback"
CLIENT = Client(CLIENT_ID, SECRET, redirect_uris=(REDIRECT,))
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"

ADA = {
    "email": "ada@example.com",
    "email_verified": True,
    "name": "Ada Lovelace",
    "preferred_username": "ada",
}


def login(provider: OIDCProvider) -> dict[str, t.Any]:
    """The browser's part and the code exchange: (tokens, identity, session)."""
    verifier = secrets.token_urlsafe(48)
    url = provider.authorization_url(state="st-1", code_verifier=verifier)
    reply = requests.get(url, allow_redirects=False, timeout=5)
    assert reply.status_code == 302, reply.text
    location = reply.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["state"] == "st-1", params
    tokens = provider.exchange_code(code=params["code"], code_verifier=verifier)
    SECRETS.update(filter(None, (tokens.access_token, tokens.refresh_token)))
    identity = provider.identity(tokens)
    session = provider.session(
        tokens, identity, scopes=frozenset({"tools"}), client_id="mcp-client"
    )
    return {"tokens": tokens, "identity": identity, "session": session, "url": url}


def common(discovery: t.Any) -> dict[str, t.Any]:
    return {
        "base_url": BASE_URL,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "discovery": discovery,
        "timeout": 5.0,
    }


# -- Keycloak ------------------------------------------------------------------

KEYCLOAK_USER = User(
    "f3b0c2d1-kc",
    {
        **ADA,
        "realm_access": {"roles": ["admin", "offline_access"]},
        "resource_access": {
            CLIENT_ID: {"roles": ["deployer"]},
            "account": {"roles": ["manage-account"]},
        },
    },
)


@pytest.fixture(scope="module")
def keycloak() -> t.Iterator[OIDCIssuer]:
    settings = flavours.keycloak(users=[KEYCLOAK_USER], clients=[CLIENT])
    with OIDCIssuer(settings) as idp:
        yield idp


def test_keycloak_roles_come_from_the_access_token(keycloak, discovery):
    provider = KeycloakProvider(
        server_url=keycloak.url, realm="acme", **common(discovery)
    )
    assert provider.issuer == keycloak.issuer
    done = login(provider)
    assert "/realms/acme/protocol/openid-connect/auth?" in done["url"]
    session = done["session"]
    assert session.subject == "f3b0c2d1-kc" and session.email == "ada@example.com"
    # Realm roles and this client's roles; not another client's.
    assert session.roles == {"admin", "offline_access", "deployer"}
    assert require_role("deployer")(session) and not require_role("manage-account")(
        session
    )
    refreshed = provider.refresh(done["tokens"].refresh_token)
    assert refreshed.refresh_token != done["tokens"].refresh_token
    provider.revoke(refreshed)
    assert keycloak.stats()["revoked"] == [refreshed.refresh_token]


def test_keycloak_without_client_roles_and_with_a_forged_access_token(
    keycloak, discovery
):
    provider = KeycloakProvider(
        server_url=keycloak.url, realm="acme", client_roles=False, **common(discovery)
    )
    tokens = login(provider)["tokens"]
    assert provider.session(
        tokens, provider.identity(tokens), scopes=frozenset(), client_id="c"
    ).roles == {"admin", "offline_access"}
    # An access token another key signed brings no roles (and no error).
    other = OIDCIssuer(flavours.keycloak())
    try:
        forged = other.mint(
            {"iss": keycloak.issuer, "realm_access": {"roles": ["root"]}}
        )
    finally:
        other.close()
    identity = provider.identity(dataclasses.replace(tokens, access_token=forged))
    assert "root" not in provider.roles(identity)


def test_keycloak_refuses_a_bad_realm():
    with pytest.raises(ValueError):
        KeycloakProvider(
            server_url="https://kc",
            realm="a/b",
            base_url=BASE_URL,
            client_id="c",
            client_secret="s",
        )


# -- Okta ----------------------------------------------------------------------


def test_okta_groups_and_its_issuer_path(discovery):
    ada = User("00u1abcd", {**ADA, "groups": ["Everyone", "mcp-admins"]})
    with OIDCIssuer(flavours.okta(users=[ada], clients=[CLIENT])) as idp:
        provider = OktaProvider(domain=idp.url, **common(discovery))
        assert provider.issuer == idp.url + "/oauth2/default"
        done = login(provider)
        assert "/oauth2/default/v1/authorize?" in done["url"]
        assert "offline_access" in parse_qs(urlsplit(done["url"]).query)["scope"][0]
        session = done["session"]
        # The ID token's sub (the user id), not the access token's (the login).
        assert session.subject == "00u1abcd"
        assert session.roles == {"Everyone", "mcp-admins"}
        assert provider.refresh(done["tokens"].refresh_token).access_token


def test_okta_org_authorization_server():
    provider = OktaProvider(
        domain="dev-1.okta.com",
        authorization_server=None,
        base_url=BASE_URL,
        client_id="c",
        client_secret="s",
    )
    assert provider.issuer == "https://dev-1.okta.com"
    with pytest.raises(ValueError):
        OktaProvider(domain="", base_url=BASE_URL, client_id="c", client_secret="s")


# -- Auth0 ---------------------------------------------------------------------

ROLES = "https://example.com/roles"


@pytest.fixture(scope="module")
def auth0() -> t.Iterator[OIDCIssuer]:
    ada = User("auth0|64f1", {**ADA, ROLES: ["editor"], "permissions": ["read:x"]})
    with OIDCIssuer(flavours.auth0(users=[ada], clients=[CLIENT])) as idp:
        yield idp


def test_auth0_with_an_audience(auth0, discovery):
    provider = Auth0Provider(
        domain=auth0.url,
        audience="https://api.example.com",
        roles_claim=ROLES,
        fetch_userinfo=True,
        **common(discovery),
    )
    assert provider.issuer == auth0.url + "/"  # the trailing slash
    done = login(provider)
    assert parse_qs(urlsplit(done["url"]).query)["audience"] == [
        "https://api.example.com"
    ]
    assert done["tokens"].access_token.count(".") == 2  # a JWT for the API
    session = done["session"]
    assert session.subject == "auth0|64f1" and session.roles == {"editor"}
    assert auth0.stats()["userinfo"] >= 1  # its aud names userinfo: accepted


def test_auth0_without_an_audience_gets_an_opaque_token(auth0, discovery):
    provider = Auth0Provider(domain=auth0.url, **common(discovery))
    done = login(provider)
    assert done["tokens"].access_token.startswith("opaque-")
    assert done["session"].roles == frozenset()  # no roles_claim: none


def test_auth0_issuer_without_its_slash_is_refused(auth0, discovery):
    provider = OIDCProvider(issuer=auth0.url, **common(discovery))
    with pytest.raises(UpstreamError) as refused:
        provider.authorization_url(state="s", code_verifier=secrets.token_urlsafe(48))
    assert refused.value.error == "server_error"
    assert refused.value.call == "discovery document"


# -- Cognito -------------------------------------------------------------------


def test_cognito_groups_endpoints_on_the_domain_and_unrotated_refresh(discovery):
    ada = User(
        "7d3e-cognito", {**ADA, "cognito:groups": ["ops"], "cognito:username": "ada"}
    )
    with OIDCIssuer(flavours.cognito(users=[ada], clients=[CLIENT])) as idp:
        provider = CognitoProvider(
            user_pool_id="us-east-1_TestPool",
            domain=idp.url,
            issuer=idp.issuer,
            **common(discovery),
        )
        done = login(provider)
        assert done["url"].startswith(idp.url + "/oauth2/authorize?")
        session = done["session"]
        assert session.subject == "7d3e-cognito" and session.roles == {"ops"}
        old = done["tokens"].refresh_token
        assert provider.refresh(old).refresh_token == old  # kept, not rotated
        provider.revoke(done["tokens"])
        assert idp.stats()["revoked"] == [old]


def test_cognito_issuer_from_region_and_pool():
    provider = CognitoProvider(
        user_pool_id="eu-west-1_Abc",
        domain="acme.auth.eu-west-1.amazoncognito.com",
        base_url=BASE_URL,
        client_id="c",
        client_secret="s",
    )
    assert (
        provider.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc"
    )
    assert provider.endpoint("token_endpoint") == (
        "https://acme.auth.eu-west-1.amazoncognito.com/oauth2/token"
    )
    with pytest.raises(ValueError):
        CognitoProvider(
            user_pool_id="nopool",
            domain="d",
            base_url=BASE_URL,
            client_id="c",
            client_secret="s",
        )


# -- GitLab --------------------------------------------------------------------


def test_gitlab_groups_from_userinfo_and_the_id_token(discovery):
    ada = User(
        "4242",
        {
            **ADA,
            "nickname": "ada",
            "groups": ["acme", "acme/platform"],
            "groups_direct": ["acme/platform"],
        },
    )
    with OIDCIssuer(flavours.gitlab(users=[ada], clients=[CLIENT])) as idp:
        provider = GitLabProvider(gitlab_url=idp.url, **common(discovery))
        done = login(provider)
        session = done["session"]
        assert type(session) is GitLabSession
        assert session.subject == "4242" and session.username == "ada"
        assert session.roles == {"acme", "acme/platform"}
        assert idp.stats()["userinfo"] == 1


# -- Entra ID ------------------------------------------------------------------


def test_azure_provider_is_the_microsoft_provider():
    assert AzureProvider is MicrosoftProvider


def test_entra_app_roles_and_a_userinfo_that_refuses_api_tokens(discovery, caplog):
    ada = User(
        "AAAAentra", {**ADA, "roles": ["Tools.Admin"], "tid": TENANT, "oid": "0b1"}
    )
    with OIDCIssuer(flavours.entra(TENANT, users=[ada], clients=[CLIENT])) as idp:
        provider = AzureProvider(
            tenant=TENANT,
            authority=idp.url,
            scopes=(
                "openid",
                "email",
                "profile",
                "offline_access",
                "api://mcp-api/access",
            ),
            fetch_userinfo=True,
            **common(discovery),
        )
        done = login(provider)
        session = done["session"]
        assert type(session) is MicrosoftSession
        assert session.roles == {"Tools.Admin"} and session.tenant_id == TENANT
        # The access token is for our API: userinfo (Graph) refused it, and
        # the user was signed in from the verified ID token.
        assert idp.requests_to("userinfo_endpoint")[-1].status == 401
        assert "refused the access token" in caplog.text


# -- refusals shared by every flavour -----------------------------------------


@pytest.mark.parametrize(
    "flavour",
    [flavours.keycloak, flavours.okta, flavours.gitlab],
    ids=["keycloak", "okta", "gitlab"],
)
def test_a_wrong_client_secret_is_an_upstream_error_naming_the_call(flavour, discovery):
    with OIDCIssuer(flavour(users=[User()], clients=[CLIENT])) as idp:
        provider = OIDCProvider(
            issuer=idp.issuer, **{**common(discovery), "client_secret": "wrong-secret"}
        )
        verifier = secrets.token_urlsafe(48)
        url = provider.authorization_url(state="s", code_verifier=verifier)
        location = requests.get(url, allow_redirects=False, timeout=5).headers[
            "Location"
        ]
        code = parse_qs(urlsplit(location).query)["code"][0]
        with pytest.raises(UpstreamError) as refused:
            provider.exchange_code(code=code, code_verifier=verifier)
        assert refused.value.error == "invalid_client"
        assert refused.value.call == "token endpoint"
        assert "access_token" not in str(refused.value)


def test_a_session_of_any_provider_carries_roles():
    assert OAuthSession(subject="s", access_token="t").roles == frozenset()
