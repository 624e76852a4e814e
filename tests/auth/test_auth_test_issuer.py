"""The test issuer itself: each endpoint, each quirk, each refusal.

Other suites trust it to behave as an identity provider does, so it is
checked here the way a client would use it, over HTTP."""

from __future__ import annotations

import base64
import hashlib
import secrets
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from support.oidc import ACCESS_TOKEN_TYPE
from support.oidc import ID_JAG_TOKEN_TYPE
from support.oidc import ID_TOKEN_TYPE
from support.oidc import JWT_BEARER
from support.oidc import TOKEN_EXCHANGE
from support.oidc import Client
from support.oidc import IssuerSettings
from support.oidc import OIDCIssuer
from support.oidc import User
from support.oidc import flavours

REDIRECT = "http://127.0.0.1:9/callback"
APP = Client("app", "app-secret", redirect_uris=(REDIRECT,))
PUBLIC = Client("spa", None, redirect_uris=(REDIRECT,))
ALICE = User("alice", {"email": "alice@example.com", "name": "Alice"})
BOB = User("bob", {"email": "bob@example.com"})


def start(settings: IssuerSettings | None = None, **changes: t.Any) -> OIDCIssuer:
    settings = settings or IssuerSettings(users=[ALICE, BOB], clients=[APP, PUBLIC])
    for name, value in changes.items():
        setattr(settings, name, value)
    return OIDCIssuer(settings)


@pytest.fixture
def idp() -> t.Iterator[OIDCIssuer]:
    with start(open_clients=False) as issuer:
        yield issuer


def metadata(idp: OIDCIssuer) -> dict[str, t.Any]:
    reply = requests.get(idp.discovery_url(), timeout=5)
    assert reply.status_code == 200
    return t.cast(dict[str, t.Any], reply.json())


def authorize(
    idp: OIDCIssuer, client: Client = APP, **params: str
) -> tuple[dict[str, str], str]:
    """Follow the authorization endpoint; (redirect parameters, verifier)."""
    verifier = secrets.token_urlsafe(40)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "nonce": "n1",
        **params,
    }
    query = {k: v for k, v in query.items() if v}
    url = metadata(idp)["authorization_endpoint"]
    reply = requests.get(url, params=query, allow_redirects=False, timeout=5)
    assert reply.status_code == 302, reply.text
    location = reply.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    found = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return found, verifier


def token(
    idp: OIDCIssuer, client: Client | None = APP, **form: str
) -> requests.Response:
    auth = (
        (client.client_id, client.client_secret)
        if client and client.client_secret
        else None
    )
    if client is not None and client.client_secret is None:
        form.setdefault("client_id", client.client_id)
    return requests.post(
        metadata(idp)["token_endpoint"], data=form, auth=auth, timeout=5
    )


def login(idp: OIDCIssuer, client: Client = APP, **params: str) -> dict[str, t.Any]:
    found, verifier = authorize(idp, client, **params)
    reply = token(
        idp,
        client,
        grant_type="authorization_code",
        code=found["code"],
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert reply.status_code == 200, reply.text
    return t.cast(dict[str, t.Any], reply.json())


def claims_of(idp: OIDCIssuer, token: str) -> dict[str, t.Any]:
    """Claims of a JWT, its signature checked against the published JWK Set."""
    jwks = requests.get(metadata(idp)["jwks_uri"], timeout=5).json()
    return dict(jwt.decode(token, KeySet.import_key_set(jwks)).claims)


# -- discovery and keys -------------------------------------------------------


@pytest.mark.parametrize(
    ("flavour", "suffix", "token_path"),
    [
        (
            flavours.keycloak,
            "/realms/acme",
            "/realms/acme/protocol/openid-connect/token",
        ),
        (flavours.okta, "/oauth2/default", "/oauth2/default/v1/token"),
        (flavours.auth0, "/", "/oauth/token"),
        (flavours.cognito, "/us-east-1_TestPool", "/oauth2/token"),
        (flavours.gitlab, "", "/oauth/token"),
        (flavours.entra, "/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", None),
    ],
)
def test_each_flavour_is_found_through_its_issuer(flavour, suffix, token_path):
    with OIDCIssuer(flavour()) as idp:
        assert idp.issuer == idp.url + suffix
        document = metadata(idp)
        assert document["issuer"] == idp.issuer
        if token_path:
            assert document["token_endpoint"] == idp.url + token_path
        keys = requests.get(document["jwks_uri"], timeout=5).json()["keys"]
        assert [key["kid"] for key in keys] == [idp.keys.signing_kid]
        path = urlsplit(idp.issuer).path.rstrip("/")
        rfc8414 = f"{idp.url}/.well-known/oauth-authorization-server{path}"
        assert requests.get(rfc8414, timeout=5).json()["issuer"] == idp.issuer


def test_keys_rotate_and_retire(idp):
    first = idp.keys.signing_kid
    old = idp.mint({"sub": "x"})
    second = idp.keys.rotate("ES256")
    new = idp.mint({"sub": "y"})
    published = {
        key["kid"] for key in requests.get(metadata(idp)["jwks_uri"]).json()["keys"]
    }
    assert published == {first, second}
    assert claims_of(idp, old)["sub"] == "x"
    assert (
        jwt.decode(new, KeySet.import_key_set(idp.keys.jwks())).header["alg"] == "ES256"
    )
    idp.keys.retire(first)
    assert idp.keys.verify(old) is None
    assert idp.keys.verify(new) is not None
    with pytest.raises(ValueError):
        idp.keys.retire(second)


# -- authorization code, refresh ---------------------------------------------


def test_login_gives_verifiable_tokens(idp):
    answer = login(idp)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    id_token = claims_of(idp, answer["id_token"])
    assert id_token["sub"] == "alice" and id_token["aud"] == "app"
    assert id_token["nonce"] == "n1" and id_token["email"] == "alice@example.com"
    access = claims_of(idp, answer["access_token"])
    assert access["client_id"] == "app" and access["scope"] == "openid email profile"
    info = requests.get(
        metadata(idp)["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {answer['access_token']}"},
        timeout=5,
    )
    assert info.json() == {"sub": "alice", **ALICE.claims}
    assert idp.stats()["token"] == {"authorization_code": 1}


def test_login_hint_and_login_as_pick_the_user(idp):
    assert claims_of(idp, login(idp, login_hint="bob")["id_token"])["sub"] == "bob"
    idp.login_as("bob")
    assert claims_of(idp, login(idp)["id_token"])["sub"] == "bob"
    with pytest.raises(ValueError):
        idp.login_as("nobody")


def test_a_code_is_single_use_and_bound_to_pkce_client_and_redirect(idp):
    found, verifier = authorize(idp)
    form = {
        "grant_type": "authorization_code",
        "code": found["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": "x" * 43,
    }
    assert token(idp, **form).json()["error"] == "invalid_grant"  # wrong verifier
    found, verifier = authorize(idp)
    form.update(code=found["code"], code_verifier=verifier, redirect_uri=REDIRECT + "x")
    assert token(idp, **form).json()["error"] == "invalid_grant"  # wrong redirect
    found, verifier = authorize(idp)
    form.update(code=found["code"], code_verifier=verifier, redirect_uri=REDIRECT)
    assert token(idp, **form).status_code == 200
    assert token(idp, **form).json()["error"] == "invalid_grant"  # replayed


def test_client_authentication_is_checked(idp):
    wrong = Client("app", "not-the-secret")
    reply = token(idp, wrong, grant_type="client_credentials")
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_client"
    assert reply.headers["WWW-Authenticate"].startswith("Basic")
    assert (
        token(idp, Client("ghost", "x"), grant_type="client_credentials").status_code
        == 401
    )
    assert token(idp, PUBLIC, grant_type="client_credentials").json()["error"] == (
        "unauthorized_client"
    )
    # client_secret_post works as well as Basic.
    reply = requests.post(
        metadata(idp)["token_endpoint"],
        data={
            "grant_type": "client_credentials",
            "client_id": "app",
            "client_secret": "app-secret",
        },
        timeout=5,
    )
    assert claims_of(idp, reply.json()["access_token"])["sub"] == "app"


def test_authorize_refusals(idp):
    url = metadata(idp)["authorization_endpoint"]
    bad = requests.get(
        url, params={"client_id": "app", "redirect_uri": "http://evil/cb"}
    )
    assert bad.status_code == 400  # never redirected to an unregistered URI
    found, _ = authorize(idp, code_challenge="", code_challenge_method="")
    assert found["error"] == "invalid_request" and "code" not in found
    found, _ = authorize(idp, response_type="token")
    assert found == {"error": "unsupported_response_type", "state": "s1"}
    idp.next_authorize_error("access_denied", "the user said no")
    found, _ = authorize(idp)
    assert found["error"] == "access_denied" and "code" not in found
    assert idp.stats()["authorize"] == 4


def test_refresh_rotates_and_the_old_token_dies(idp):
    first = login(idp)["refresh_token"]
    reply = token(idp, grant_type="refresh_token", refresh_token=first)
    assert reply.status_code == 200
    second = reply.json()["refresh_token"]
    assert second != first
    assert token(idp, grant_type="refresh_token", refresh_token=first).json()[
        "error"
    ] == ("invalid_grant")
    narrower = token(
        idp, grant_type="refresh_token", refresh_token=second, scope="openid"
    )
    assert narrower.json()["scope"] == "openid"


def test_controls_of_the_node_issuer(idp):
    idp.config(expires_in=5)
    assert login(idp)["expires_in"] == 5
    idp.config(expires_in=None)
    idp.next_token_error("invalid_grant")
    found, verifier = authorize(idp)
    reply = token(
        idp,
        grant_type="authorization_code",
        code=found["code"],
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"
    refresh = login(idp)["refresh_token"]
    requests.post(
        metadata(idp)["revocation_endpoint"], data={"token": refresh}, timeout=5
    )
    assert idp.stats()["revoked"] == [refresh]
    assert (
        token(idp, grant_type="refresh_token", refresh_token=refresh).status_code == 400
    )
    minted = idp.mint({"sub": "u", "exp": None}, {"typ": "oauth-id-jag+jwt"})
    decoded = jwt.decode(minted, KeySet.import_key_set(idp.keys.jwks()))
    assert decoded.header["typ"] == "oauth-id-jag+jwt" and "exp" not in decoded.claims


# -- quirks ------------------------------------------------------------------


def test_userinfo_refuses_resource_server_tokens():
    settings = IssuerSettings(
        users=[ALICE], clients=[APP], userinfo_refuses_api_tokens=True
    )
    with OIDCIssuer(settings) as idp:
        api = login(idp, resource="https://api.example.com")
        assert claims_of(idp, api["access_token"])["aud"] == "https://api.example.com"
        url = metadata(idp)["userinfo_endpoint"]
        refused = requests.get(
            url, headers={"Authorization": f"Bearer {api['access_token']}"}
        )
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"
        own = login(idp)["access_token"]
        assert (
            requests.get(url, headers={"Authorization": f"Bearer {own}"}).status_code
            == 200
        )


def test_form_encoded_answers():
    with start(form_encoded=True) as idp:
        found, verifier = authorize(idp)
        reply = token(
            idp,
            grant_type="authorization_code",
            code=found["code"],
            redirect_uri=REDIRECT,
            code_verifier=verifier,
        )
        assert reply.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert parse_qs(reply.text)["token_type"] == ["Bearer"]


def test_auth0_audience_quirks():
    settings = flavours.auth0(users=[ALICE], clients=[APP])
    with OIDCIssuer(settings) as idp:
        plain = login(idp)["access_token"]
        assert plain.startswith("opaque-")  # no API asked: not a JWT
        api = claims_of(
            idp, login(idp, audience="https://api.example.com")["access_token"]
        )
        assert api["aud"] == ["https://api.example.com", idp.url + "/userinfo"]
        assert idp.issuer.endswith("/")


def test_okta_and_cognito_claim_names():
    alice = User(
        "00u1", {"preferred_username": "alice@example.com", "groups": ["Everyone"]}
    )
    with OIDCIssuer(flavours.okta(users=[alice], clients=[APP])) as idp:
        access = claims_of(idp, login(idp, scope="openid groups")["access_token"])
        assert access["sub"] == "alice@example.com" and access["cid"] == "app"
        assert (
            access["scp"] == ["openid", "groups"] and access["aud"] == "api://default"
        )
    bob = User("b-1", {"cognito:groups": ["admins"], "email": "b@example.com"})
    with OIDCIssuer(flavours.cognito(users=[bob], clients=[APP])) as idp:
        answer = login(idp)
        access = claims_of(idp, answer["access_token"])
        assert "aud" not in access and access["cognito:groups"] == ["admins"]
        assert claims_of(idp, answer["id_token"])["cognito:groups"] == ["admins"]
        refreshed = token(
            idp, grant_type="refresh_token", refresh_token=answer["refresh_token"]
        )
        assert (
            refreshed.json()["refresh_token"] == answer["refresh_token"]
        )  # not rotated


# -- token exchange, ID-JAG, on-behalf-of --------------------------------------


EXCHANGER = Client(
    "mcp",
    "mcp-secret",
    redirect_uris=(REDIRECT,),
    exchange_audiences=("https://api.internal",),
)


def exchange(
    idp: OIDCIssuer, subject: str, client: Client = EXCHANGER, **form: str
) -> requests.Response:
    base = {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "audience": "https://api.internal",
    }
    return token(idp, client, **{**base, **form})


def test_token_exchange_gives_a_token_for_the_audience():
    with start(clients=[EXCHANGER, PUBLIC], users=[ALICE]) as idp:
        subject = login(idp, EXCHANGER)["access_token"]
        reply = exchange(idp, subject, scope="orders:read")
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        assert answer["issued_token_type"] == ACCESS_TOKEN_TYPE
        claims = claims_of(idp, answer["access_token"])
        assert claims["aud"] == "https://api.internal" and claims["sub"] == "alice"
        assert claims["scope"] == "orders:read" and claims["client_id"] == "mcp"
        assert idp.stats()["token"][TOKEN_EXCHANGE] == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"audience": "https://elsewhere"}, "invalid_target"),
        ({"audience": ""}, "invalid_target"),
        ({"subject_token": "forged"}, "invalid_grant"),
        ({"subject_token_type": ""}, "invalid_request"),
        ({"subject_token_type": "urn:x"}, "invalid_request"),
        ({"requested_token_type": "urn:x"}, "invalid_request"),
    ],
)
def test_token_exchange_refusals(change, error):
    with start(clients=[EXCHANGER], users=[ALICE]) as idp:
        subject = login(idp, EXCHANGER)["access_token"]
        reply = exchange(idp, subject, **change)
        assert reply.status_code == 400 and reply.json()["error"] == error


def test_token_exchange_of_an_expired_or_revoked_subject_token():
    with start(clients=[EXCHANGER], users=[ALICE]) as idp:
        expired = idp.mint({"sub": "alice", "exp": 1})
        assert exchange(idp, expired).json()["error"] == "invalid_grant"
        live = login(idp, EXCHANGER)["access_token"]
        requests.post(
            metadata(idp)["revocation_endpoint"], data={"token": live}, timeout=5
        )
        assert exchange(idp, live).json()["error"] == "invalid_grant"


def test_keycloak_exchange_needs_a_subject_token_issued_to_the_client():
    other = Client("other", "other-secret", redirect_uris=(REDIRECT,))
    with OIDCIssuer(
        flavours.keycloak(users=[ALICE], clients=[EXCHANGER, other])
    ) as idp:
        foreign = login(idp, other)["access_token"]
        assert exchange(idp, foreign).json()["error"] == "invalid_grant"
        own = login(idp, EXCHANGER)["access_token"]
        assert exchange(idp, own).status_code == 200


def test_exchange_is_not_served_where_the_idp_has_none():
    with OIDCIssuer(flavours.cognito(users=[ALICE], clients=[EXCHANGER])) as idp:
        subject = login(idp, EXCHANGER)["access_token"]
        assert exchange(idp, subject).json()["error"] == "unsupported_grant_type"
        assert TOKEN_EXCHANGE not in metadata(idp)["grant_types_supported"]


def test_an_id_jag_for_an_authorization_server():
    with start(
        clients=[Client("agent", "agent-secret", redirect_uris=(REDIRECT,))]
    ) as idp:
        id_token = login(idp, Client("agent", "agent-secret"))["id_token"]
        reply = token(
            idp,
            Client("agent", "agent-secret"),
            grant_type=TOKEN_EXCHANGE,
            subject_token=id_token,
            subject_token_type=ID_TOKEN_TYPE,
            requested_token_type=ID_JAG_TOKEN_TYPE,
            audience="https://mcp.example.com",
            resource="https://mcp.example.com/mcp",
            scope="tools",
        )
        answer = reply.json()
        assert (
            answer["issued_token_type"] == ID_JAG_TOKEN_TYPE
            and answer["token_type"] == "N_A"
        )
        decoded = jwt.decode(
            answer["access_token"], KeySet.import_key_set(idp.keys.jwks())
        )
        assert decoded.header["typ"] == "oauth-id-jag+jwt"
        claims = decoded.claims
        assert (
            claims["aud"] == "https://mcp.example.com"
            and claims["client_id"] == "agent"
        )
        assert claims["resource"] == "https://mcp.example.com/mcp" and claims["jti"]


def test_entra_on_behalf_of():
    api = Client("mcp-api", "api-secret", redirect_uris=(REDIRECT,))
    with OIDCIssuer(flavours.entra(users=[ALICE], clients=[api])) as idp:
        # The MCP server's own token: issued for its API (aud = its client id).
        incoming = idp.mint({"sub": "alice", "aud": "api://mcp-api", "scp": "access"})
        reply = token(
            idp,
            api,
            grant_type=JWT_BEARER,
            requested_token_use="on_behalf_of",
            assertion=incoming,
            scope="api://downstream/.default",
        )
        assert reply.status_code == 200, reply.text
        claims = claims_of(idp, reply.json()["access_token"])
        assert claims["aud"] == "api://downstream" and claims["sub"] == "alice"
        foreign = idp.mint({"sub": "alice", "aud": "api://someone-else"})
        refused = token(
            idp,
            api,
            grant_type=JWT_BEARER,
            requested_token_use="on_behalf_of",
            assertion=foreign,
            scope="api://downstream/.default",
        )
        assert refused.json()["error"] == "invalid_grant"
        no_scope = token(
            idp,
            api,
            grant_type=JWT_BEARER,
            requested_token_use="on_behalf_of",
            assertion=incoming,
            scope="openid",
        )
        assert no_scope.json()["error"] == "invalid_scope"
