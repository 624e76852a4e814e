"""The test issuer set up the way each identity provider behaves.

Each function returns :class:`~.settings.IssuerSettings` with that IdP's
issuer path, endpoint paths, the claims it puts in which token, its
audience handling and the grants it serves, as its documentation describes
them (noted per function). ``users`` and ``clients`` are passed through.
"""

from __future__ import annotations

import typing as t

from .settings import Client
from .settings import IssuerSettings
from .settings import User

#: Profile claims every IdP here sends in some form.
_PROFILE = ("email", "email_verified", "name", "preferred_username")


def keycloak(realm: str = "acme", **options: t.Any) -> IssuerSettings:
    """Keycloak 26: the issuer is ``/realms/{realm}``; access tokens are JWTs
    for ``account`` naming the client in ``azp``, with realm roles in
    ``realm_access.roles`` and client roles in ``resource_access``, which the
    default mappers keep out of ID tokens and userinfo. Standard token
    exchange (v2) requires the subject token to name the requesting client."""
    base = f"/realms/{realm}/protocol/openid-connect"
    return IssuerSettings(
        path=f"/realms/{realm}",
        endpoints={
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/certs",
            "revocation_endpoint": f"{base}/revoke",
            "introspection_endpoint": f"{base}/token/introspect",
        },
        id_token_claims=_PROFILE,
        userinfo_claims=_PROFILE,
        access_token_claims=("realm_access", "resource_access", *_PROFILE),
        access_token_audience="account",
        client_id_claim="azp",
        exchange_requires_audience=True,
        **options,
    )


def okta(server: str = "default", **options: t.Any) -> IssuerSettings:
    """Okta's custom authorization server ``/oauth2/{server}``: endpoints
    under ``/v1/``; access tokens for ``api://{server}`` with scopes as a
    list in ``scp``, the client in ``cid``, the user id in ``uid`` and the
    *login* (not the user id) as ``sub``; a ``groups`` claim added to ID
    tokens by the usual groups claim filter."""
    base = f"/oauth2/{server}/v1"
    return IssuerSettings(
        path=f"/oauth2/{server}",
        endpoints={
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/keys",
            "revocation_endpoint": f"{base}/revoke",
            "introspection_endpoint": f"{base}/introspect",
        },
        id_token_claims=(*_PROFILE, "groups"),
        access_token_claims=("uid", "groups"),
        access_token_audience=f"api://{server}",
        access_token_subject="preferred_username",
        scope_claim="scp",
        scope_as_list=True,
        client_id_claim="cid",
        **options,
    )


def auth0(
    roles_claim: str = "https://example.com/roles", **options: t.Any
) -> IssuerSettings:
    """Auth0: the issuer ends with a slash; ``audience`` picks the API; a
    token asked for no API is opaque (good for userinfo only); one for an API
    is a JWT whose ``aud`` also names userinfo when ``openid`` was asked;
    roles come from an Action as a namespaced claim, in ID and access
    tokens."""
    return IssuerSettings(
        path="/",
        endpoints={
            "authorization_endpoint": "/authorize",
            "token_endpoint": "/oauth/token",
            "userinfo_endpoint": "/userinfo",
            "jwks_uri": "/.well-known/jwks.json",
            "revocation_endpoint": "/oauth/revoke",
            "introspection_endpoint": None,
        },
        id_token_claims=(*_PROFILE, roles_claim),
        access_token_claims=(roles_claim, "permissions"),
        audience_parameter="audience",
        opaque_without_audience=True,
        api_audience_with_userinfo=True,
        client_id_claim="azp",
        **options,
    )


def cognito(pool: str = "us-east-1_TestPool", **options: t.Any) -> IssuerSettings:
    """Amazon Cognito user pools: the issuer is
    ``https://cognito-idp.{region}.amazonaws.com/{pool}`` with its JWK Set
    there, while the OAuth endpoints live on the hosted UI domain (here:
    ``/oauth2/...``). Access tokens have *no* ``aud`` but ``client_id`` and
    ``token_use``; groups are in ``cognito:groups`` (ID and access token);
    refresh tokens are not rotated; no token exchange."""
    return IssuerSettings(
        path=f"/{pool}",
        endpoints={
            "authorization_endpoint": "/oauth2/authorize",
            "token_endpoint": "/oauth2/token",
            "userinfo_endpoint": "/oauth2/userInfo",
            "jwks_uri": f"/{pool}/.well-known/jwks.json",
            "revocation_endpoint": "/oauth2/revoke",
            "introspection_endpoint": None,
        },
        id_token_claims=(*_PROFILE, "cognito:groups", "cognito:username"),
        access_token_claims=("cognito:groups", "username"),
        access_token_audience=None,
        rotate_refresh_tokens=False,
        token_exchange=False,
        **options,
    )


def gitlab(**options: t.Any) -> IssuerSettings:
    """GitLab: the issuer is the instance URL; opaque access tokens; the ID
    token's ``sub`` is the numeric user id; ID tokens carry
    ``groups_direct``, userinfo ``groups`` (full paths); no token exchange."""
    return IssuerSettings(
        endpoints={
            "authorization_endpoint": "/oauth/authorize",
            "token_endpoint": "/oauth/token",
            "userinfo_endpoint": "/oauth/userinfo",
            "jwks_uri": "/oauth/discovery/keys",
            "revocation_endpoint": "/oauth/revoke",
            "introspection_endpoint": "/oauth/introspect",
        },
        id_token_claims=(*_PROFILE, "nickname", "groups_direct"),
        userinfo_claims=(*_PROFILE, "nickname", "groups"),
        access_token_format="opaque",
        token_exchange=False,
        **options,
    )


#: Microsoft Graph's application id: the default audience of Entra tokens.
GRAPH = "00000003-0000-0000-c000-000000000000"


def entra(
    tenant: str = "9188040d-6c67-4c5b-b112-36a304b66dad", **options: t.Any
) -> IssuerSettings:
    """Microsoft Entra ID v2.0: the issuer is ``/{tenant}/v2.0``; tokens are
    for Microsoft Graph unless a scope names your API, and userinfo (a Graph
    endpoint) refuses tokens for any other API; app roles are in ``roles``
    (ID token); ``scp`` is a space-separated string; the on-behalf-of flow
    instead of RFC 8693."""
    return IssuerSettings(
        path=f"/{tenant}/v2.0",
        endpoints={
            "authorization_endpoint": f"/{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"/{tenant}/oauth2/v2.0/token",
            "userinfo_endpoint": "/oidc/userinfo",
            "jwks_uri": f"/{tenant}/discovery/v2.0/keys",
            "revocation_endpoint": None,
            "introspection_endpoint": None,
        },
        id_token_claims=(*_PROFILE, "roles", "tid", "oid"),
        access_token_claims=("roles", "tid", "oid"),
        access_token_audience=GRAPH,
        userinfo_refuses_api_tokens=True,
        audience_from_scope=True,
        scope_claim="scp",
        client_id_claim="azp",
        token_exchange=False,
        on_behalf_of=True,
        **options,
    )


__all__ = [
    "GRAPH",
    "Client",
    "User",
    "auth0",
    "cognito",
    "entra",
    "gitlab",
    "keycloak",
    "okta",
]
