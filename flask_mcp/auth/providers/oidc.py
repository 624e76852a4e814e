"""An upstream OpenID Connect provider, configured from its discovery document.

Endpoints come from ``{issuer}/.well-known/openid-configuration``
(OpenID Connect Discovery 1.0, section 4), fetched on first use through the
shared :class:`~flask_mcp.auth.DiscoveryDocumentCache`, so building the app
needs no network. The user is read from the verified ID token (OpenID Connect
Core 1.0, section 3.1.3.7), merged with the userinfo response when asked or
when there is no ID token. Covers Keycloak, Auth0, Okta, node oidc-provider.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from ...store.binding import bind_store
from ..claims import claim_strings
from ..discovery import DiscoveryDocumentCache
from ..discovery import DiscoveryError
from ..metadata import openid_configuration_url
from .id_token import ID_TOKEN_ALGORITHMS
from .id_token import IDTokenVerifier
from .oauth import OAuthProvider
from .provider import UpstreamError
from .provider import UpstreamTokens
from .upstream_responses import with_subject

if t.TYPE_CHECKING:
    from flask_mcp.store import Store

logger = logging.getLogger(__name__)

#: Identity claims of the scopes (OpenID Connect Core 1.0, section 5.4) that
#: sessions carry, asked for in the ID token where the issuer allows it.
SCOPE_CLAIMS = {
    "email": ("email", "email_verified"),
    "profile": ("name", "preferred_username", "picture"),
}
#: Errors of a userinfo endpoint refusing the access token (:rfc:`6750#section-3.1`).
TOKEN_REFUSED = frozenset({"invalid_token", "insufficient_scope"})


@dataclass(kw_only=True, eq=False, repr=False)
class OIDCProvider(OAuthProvider):
    """An OpenID Connect provider found through its issuer URL.

    Takes the settings of :class:`~.oauth.OAuthProvider` (the endpoint URLs
    override discovered ones) and:

    :param issuer: the issuer, exactly as its ID tokens' ``iss`` says
        (Auth0's ends with a slash).
    :param scopes: scopes to request; ``openid`` makes upstream send an ID token.
    :param discovery: the document cache for the discovery document and the
        JWK Set; a new one over ``store`` by default.
    :param store: store of the default ``discovery``; ``None``: the store of
        the app the provider serves (:meth:`bind_store`), else a private one.
    :param jwks_uri: overrides the discovered JWK Set URL.
    :param algorithms: accepted ID token signature algorithms.
    :param leeway: seconds of clock skew tolerated in ID tokens.
    :param fetch_userinfo: also read the userinfo endpoint when there is an ID
        token (its claims win over userinfo's on conflict). When userinfo
        refuses the access token (issuers minting access tokens for another
        resource), the user is signed in from the ID token alone.
    :param use_nonce: send a ``nonce`` and require it in the code exchange's ID
        token. It is derived from the PKCE verifier, which the proxy keeps
        anyway, so nothing more needs storing.
    :param roles_claim: the claim(s) holding the user's roles (for
        :attr:`~flask_mcp.auth.providers.OAuthSession.roles`, which
        ``require_role`` reads): a name, a dotted path into nested claims
        (``"realm_access.roles"``), or several; ``None`` for no roles.
    :param roles_from_access_token: also look for the roles claim in the
        access token, when it is a JWT the issuer signed (the signature is
        checked; IdPs such as Keycloak keep roles out of ID tokens).

    Where the issuer supports the ``claims`` request parameter (OpenID Connect
    Core 1.0, section 5.5), the identity claims of the scopes (e-mail, name)
    are asked for in the ID token, so that the user is known without
    userinfo.

    :meth:`refresh` does not check the new ID token (failing there would lose
    a rotated refresh token); :meth:`identity` checks it when it is used.
    """

    issuer: str
    scopes: Sequence[str] = ("openid", "email", "profile")
    discovery: DiscoveryDocumentCache | None = None
    store: Store | None = None
    jwks_uri: str | None = None
    algorithms: Sequence[str] = ID_TOKEN_ALGORITHMS
    leeway: int = 60
    fetch_userinfo: bool = False
    use_nonce: bool = True
    roles_claim: str | Sequence[str] | None = "roles"
    roles_from_access_token: bool = False
    name: str = "oidc"

    discovers_endpoints = True

    def __post_init__(self) -> None:
        super().__post_init__()
        #: Where the discovery document is (raises ValueError if not a URL).
        self.configuration_url = openid_configuration_url(self.issuer)
        self.documents = self.discovery or DiscoveryDocumentCache(
            store=self.store, timeout=self.timeout
        )
        self.id_tokens = IDTokenVerifier(
            self.documents, algorithms=self.algorithms, leeway=self.leeway
        )
        self._endpoints["jwks_uri"] = self.jwks_uri or None

    def metadata(self) -> dict[str, t.Any]:
        """The issuer's discovery document (cached in the store).

        :raises UpstreamError: ``temporarily_unavailable`` when it cannot be
            fetched, ``server_error`` when it names another issuer.
        """
        try:
            document = self.documents.get(self.configuration_url)
        except DiscoveryError as error:
            logger.warning("%s: the discovery document failed: %s", self.name, error)
            raise UpstreamError(
                "temporarily_unavailable",
                f"cannot read the OpenID configuration of {self.name}",
                call="discovery document",
            ) from None
        self.check_metadata(document)
        return document

    def check_metadata(self, document: Mapping[str, t.Any]) -> None:
        """Refuse a discovery document of another issuer (Discovery, section 4.3)."""
        if document.get("issuer") != self.issuer:
            logger.warning(
                "%s: %s names issuer %r, not %r",
                self.name,
                self.configuration_url,
                document.get("issuer"),
                self.issuer,
            )
            raise UpstreamError(
                "server_error",
                f"{self.name} metadata names another issuer",
                call="discovery document",
            )

    def endpoint(self, name: str) -> str | None:
        """The configured URL of ``name``, else the discovered one."""
        configured = self._endpoints.get(name)
        if configured:
            return configured
        value = self.metadata().get(name)
        return value if isinstance(value, str) and value else None

    def accepted_issuers(self, claims: Mapping[str, t.Any]) -> tuple[str, ...]:
        """The ``iss`` values accepted in ID tokens with these claims."""
        return (self.issuer,)

    def check_identity(self, identity: dict[str, t.Any]) -> dict[str, t.Any]:
        """Refuse users this provider must not let in (a hook: the default lets
        everyone in); raise :class:`UpstreamError` ``access_denied``."""
        return identity

    def nonce(self, code_verifier: str) -> str:
        """The nonce of the login leg whose PKCE verifier is ``code_verifier``."""
        digest = hashlib.sha256(
            b"flask_mcp oidc nonce:" + code_verifier.encode()
        ).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def authorize_params(self, code_verifier: str) -> dict[str, str]:
        params = {"nonce": self.nonce(code_verifier)} if self.use_nonce else {}
        claims = self.id_token_claims()
        # Only where the authorization endpoint is discovered anyway: an
        # issuer configured by hand is never asked for its document.
        discovered = self._endpoints.get("authorization_endpoint") is None
        if (
            claims
            and discovered
            and self.metadata().get("claims_parameter_supported") is True
        ):
            # OpenID Connect Core 1.0, section 5.5: voluntary claims.
            request = {"id_token": {name: None for name in claims}}
            params["claims"] = json.dumps(request, separators=(",", ":"))
        return params

    def id_token_claims(self) -> tuple[str, ...]:
        """The identity claims asked for in the ID token: those of the
        ``email`` and ``profile`` scopes requested (OpenID Connect Core 1.0,
        section 5.4) that sessions carry."""
        return tuple(
            claim for scope in self.scopes for claim in SCOPE_CLAIMS.get(scope, ())
        )

    def bind_store(self, store: Store) -> None:
        """Share the discovery document and JWK Set through the app's store
        (unless a store or cache was given); the OAuth proxy calls this."""
        bind_store(self.documents, store)

    def verify_id_token(
        self, id_token: str, nonce: str | None = None
    ) -> dict[str, t.Any]:
        """The claims of ``id_token`` if signature and claims are valid.

        :raises UpstreamError: ``invalid_token`` or ``temporarily_unavailable``.
        """
        jwks_uri = self.endpoint("jwks_uri")
        if not jwks_uri:
            raise UpstreamError("server_error", f"{self.name} publishes no jwks_uri")
        return self.id_tokens.verify(
            id_token,
            jwks_uri=jwks_uri,
            issuers=self.accepted_issuers,
            audience=self.client_id,
            nonce=nonce,
        )

    def exchange_code(self, *, code: str, code_verifier: str) -> UpstreamTokens:
        """Redeem ``code``, then verify the ID token, ``nonce`` included.

        :raises UpstreamError: as :meth:`OAuthProvider.exchange_code`, or
            ``invalid_token`` when the ID token does not verify.
        """
        tokens = super().exchange_code(code=code, code_verifier=code_verifier)
        if tokens.id_token:
            nonce = self.nonce(code_verifier) if self.use_nonce else None
            self.verify_id_token(tokens.id_token, nonce)
        elif "openid" in self.scopes:
            logger.info("%s: no ID token in the token response", self.name)
        return tokens

    def identity(self, tokens: UpstreamTokens) -> dict[str, t.Any]:
        """The verified ID token's claims, merged with userinfo when
        ``fetch_userinfo`` is set or there is no ID token.

        :raises UpstreamError: ``invalid_token`` when the ID token does not
            verify or userinfo describes another subject; ``access_denied``
            from :meth:`check_identity`.
        """
        claims = self.verify_id_token(tokens.id_token) if tokens.id_token else None
        userinfo: dict[str, t.Any] = {}
        if claims is None or self.fetch_userinfo:
            url = self.endpoint("userinfo_endpoint")
            if url:
                userinfo = self._userinfo(url, tokens, has_id_token=claims is not None)
            elif claims is None:
                raise UpstreamError(
                    "server_error",
                    f"{self.name} has no userinfo endpoint",
                    call="discovery document",
                )
        if claims is not None and userinfo and userinfo["sub"] != claims["sub"]:
            # OpenID Connect Core 1.0, section 5.3.4.
            raise UpstreamError("invalid_token", "userinfo describes another subject")
        identity = with_subject({**userinfo, **(claims or {})}, "sub")
        if self.roles_from_access_token:  # below the ID token's claims
            jwks_uri, roots = self.endpoint("jwks_uri"), self.role_claim_roots()
            found = self.id_tokens.access_token_claims(
                tokens.access_token, jwks_uri, self.accepted_issuers, roots
            )
            identity = {**found, **identity}
        return self.check_identity(identity)

    def roles(self, identity: Mapping[str, t.Any]) -> frozenset[str]:
        """The roles of the ``roles_claim`` claims of the identity."""
        return claim_strings(identity, self.roles_claim or ())

    def role_claim_roots(self) -> set[str]:
        """The top-level claims the roles are in (``realm_access`` for
        ``realm_access.roles``)."""
        claim = self.roles_claim
        names = (claim,) if isinstance(claim, str) else tuple(claim or ())
        return {name.split(".", 1)[0] for name in names}

    def _userinfo(
        self, url: str, tokens: UpstreamTokens, *, has_id_token: bool
    ) -> dict[str, t.Any]:
        """The userinfo answer; ``{}`` when it refuses the access token but a
        verified ID token says who the user is. Issuers that mint access
        tokens for another resource (resource indicators, Entra ID tokens for
        your own API, Auth0's ``audience``) refuse those at userinfo."""
        try:
            return with_subject(self.get_json(url, tokens, "userinfo endpoint"), "sub")
        except UpstreamError as error:
            if not has_id_token or error.error not in TOKEN_REFUSED:
                raise
            logger.warning(
                "%s: the userinfo endpoint refused the access token (%s);"
                " signing the user in with the ID token's claims",
                self.name,
                error.error,
            )
            return {}
