"""What the test issuer is: its users, its clients, and the quirks of the
identity provider it stands in for.

Every quirk is a setting, so one issuer plays Keycloak, Okta, Auth0, Cognito,
GitLab or Entra ID (:mod:`.flavours` has those set-ups): where the issuer and
its endpoints live, which claims go into which token, whether access tokens
are JWTs for an API that userinfo refuses, whether answers are form-encoded.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from dataclasses import field

#: RFC 8693 token type identifiers (section 3), and ID-JAG's.
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ID_JAG_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id-jag"

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"

#: The default user: the one oauth2-mock-server signs in, so tests written
#: against it keep their expectations.
DEFAULT_USER_CLAIMS: dict[str, t.Any] = {
    "email": "john@example.com",
    "email_verified": True,
    "name": "John Doe",
    "preferred_username": "john",
}


@dataclass
class User:
    """Someone the issuer can sign in: ``sub`` and profile claims."""

    sub: str = "johndoe"
    claims: dict[str, t.Any] = field(default_factory=lambda: dict(DEFAULT_USER_CLAIMS))


@dataclass
class Client:
    """A client registered at the issuer.

    :param client_secret: ``None`` for a public client (PKCE only).
    :param redirect_uris: exact redirect URIs; ``None`` accepts any (as
        oauth2-mock-server does), for tests whose app URL is not known early.
    :param auth_methods: client authentication methods accepted at the token
        endpoint.
    :param exchange_audiences: audiences (or resources) this client may ask
        tokens for by token exchange or on-behalf-of; ``None``: any.
    """

    client_id: str
    client_secret: str | None = None
    redirect_uris: tuple[str, ...] | None = None
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post")
    exchange_audiences: tuple[str, ...] | None = None

    @property
    def public(self) -> bool:
        return self.client_secret is None


def default_endpoints(path: str) -> dict[str, str]:
    """Endpoint paths of an issuer at ``path``: oauth2-mock-server's names."""
    base = path.rstrip("/")
    return {
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/jwks",
        "revocation_endpoint": f"{base}/revoke",
        "introspection_endpoint": f"{base}/introspect",
    }


@dataclass
class IssuerSettings:
    """How the issuer behaves.

    :param path: the issuer's path on the server: ``""`` (the root),
        ``"/realms/acme"`` (Keycloak), ``"/"`` (Auth0's trailing slash).
    :param endpoints: endpoint name (as in the discovery document) -> path
        on the server; those left out take :func:`default_endpoints`.
        ``userinfo_endpoint: None`` leaves it out.
    :param users: who can sign in; the first one by default (the authorize
        endpoint signs in whoever ``login_hint`` names, else the current
        user, see :meth:`~.issuer.OIDCIssuer.login_as`).
    :param clients: registered clients; an unknown client is accepted with
        any secret when ``open_clients`` is true (as oauth2-mock-server).
    :param id_token_claims: the user's claims also put in ID tokens;
        ``None``: all of them.
    :param userinfo_claims: the user's claims answered by userinfo; ``None``:
        all of them.
    :param access_token_claims: the user's claims also put in JWT access
        tokens (roles, groups...).
    :param access_token_format: ``"jwt"`` or ``"opaque"``.
    :param access_token_audience: ``aud`` of access tokens asked for no
        particular API; ``None`` leaves ``aud`` out (Cognito).
    :param audience_parameter: the authorization and token request
        parameter naming the API a token is for: ``"resource"`` (RFC 8707),
        ``"audience"`` (Auth0), or ``None`` (ignored).
    :param userinfo_refuses_api_tokens: userinfo refuses access tokens
        minted for another API than the default audience (``invalid_token``),
        as Entra ID, Auth0 with an ``audience`` and resource indicators do.
    :param scope_claim: ``"scope"`` (a string) or ``"scp"`` (Okta and
        Entra put a list or a string there).
    :param scope_as_list: put scopes in access tokens as a JSON list.
    :param client_id_claim: the access token claim naming the client:
        ``client_id`` (RFC 9068), ``azp`` (Keycloak), ``cid`` (Okta),
        ``appid`` (Entra v1).
    :param access_token_typ: ``typ`` header of JWT access tokens.
    :param form_encoded: token endpoint answers form-encoded
        (``application/x-www-form-urlencoded``), as GitHub does by default.
    :param require_pkce: refuse authorization requests without S256 PKCE.
    :param rotate_refresh_tokens: each refresh returns a new refresh token
        and the old one stops working.
    :param claims_parameter_supported: advertise and honour the ``claims``
        request parameter (OpenID Connect Core, section 5.5).
    :param token_exchange: serve RFC 8693 token exchange.
    :param on_behalf_of: serve Entra's on-behalf-of flow (the JWT bearer
        grant with ``requested_token_use=on_behalf_of``).
    :param exchange_requires_audience: token exchange needs the subject
        token to have been issued to the requesting client (its ``aud`` or
        ``azp``), as Keycloak and Entra require.
    :param access_token_subject: the user claim that is ``sub`` of access
        tokens (Okta: the login), instead of the user's ``sub``.
    :param opaque_without_audience: access tokens asked for no API are
        opaque (Auth0), JWTs otherwise.
    :param api_audience_with_userinfo: an access token for an API names
        userinfo too in ``aud`` when ``openid`` was asked (Auth0), so
        userinfo accepts it.
    :param audience_from_scope: a scope naming an API (``api://x/read``,
        ``https://api.example.com/read``) makes the access token that API's
        (Entra ID).
    :param access_ttl: seconds an access token lives.
    :param issuer_in_response: send ``iss`` with the authorization response
        (:rfc:`9207`).
    """

    path: str = ""
    endpoints: dict[str, str | None] = field(default_factory=dict)
    users: list[User] = field(default_factory=lambda: [User()])
    clients: list[Client] = field(default_factory=list)
    open_clients: bool = True
    id_token_claims: tuple[str, ...] | None = None
    userinfo_claims: tuple[str, ...] | None = None
    access_token_claims: tuple[str, ...] = ()
    access_token_format: t.Literal["jwt", "opaque"] = "jwt"
    access_token_audience: str | None = "userinfo"
    audience_parameter: str | None = "resource"
    userinfo_refuses_api_tokens: bool = False
    scope_claim: str = "scope"
    scope_as_list: bool = False
    client_id_claim: str = "client_id"
    access_token_typ: str = "JWT"
    form_encoded: bool = False
    require_pkce: bool = True
    rotate_refresh_tokens: bool = True
    claims_parameter_supported: bool = False
    token_exchange: bool = True
    on_behalf_of: bool = False
    exchange_requires_audience: bool = False
    access_token_subject: str | None = None
    opaque_without_audience: bool = False
    api_audience_with_userinfo: bool = False
    audience_from_scope: bool = False
    access_ttl: int = 3600
    issuer_in_response: bool = False

    def endpoint_paths(self) -> dict[str, str]:
        """Every served endpoint's path (``None`` ones left out)."""
        merged: dict[str, str | None] = {
            **default_endpoints(self.path),
            **self.endpoints,
        }
        return {name: path for name, path in merged.items() if path}
