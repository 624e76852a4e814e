"""The records authlib's grants and endpoints work with.

Each model is a dataclass filling an authlib mixin
(:class:`~authlib.oauth2.rfc6749.ClientMixin` and friends), stored through
:func:`~.records.dump` and :func:`~.records.load`. They hold no secrets in
clear: client secrets, codes and refresh tokens are only known by their
SHA-256 digests.
"""

from __future__ import annotations

import hmac
import typing as t
from dataclasses import dataclass
from dataclasses import field

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oauth2.rfc6749.util import scope_to_list

from ..hashing import digest
from .records import NOT_STORED
from .records import UpstreamGrant
from .redirects import redirect_uri_matches

#: Client authentication methods of :rfc:`7591#section-2` that need a secret.
SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post"})


@dataclass
class Client(ClientMixin):
    """A dynamically registered client (:rfc:`7591#section-3.2.1`), or one
    identified by its metadata document (:mod:`.cimd`)."""

    client_id: str
    metadata: dict[str, t.Any]
    #: SHA-256 of the client secret; ``None`` for public clients.
    secret_hash: str | None = None
    issued_at: int = 0
    #: Whether the client proved itself when it registered (the
    #: registration token): its redirect URIs are trusted.
    vetted: bool = False
    #: Scopes a request without ``scope`` gets (:rfc:`6749#section-3.3`).
    default_scopes: tuple[str, ...] = field(default=(), metadata=NOT_STORED)
    #: For a client identified by its metadata document (its ``client_id``
    #: is the document's URL): the host the document was fetched from, the
    #: one thing about the client this server verified. Never stored.
    document_host: str | None = field(default=None, metadata=NOT_STORED)

    @property
    def auth_method(self) -> str:
        return str(self.metadata.get("token_endpoint_auth_method", "none"))

    @property
    def is_public(self) -> bool:
        return self.auth_method == "none"

    @property
    def name(self) -> str:
        return str(self.metadata.get("client_name") or self.client_id)

    @property
    def redirect_uris(self) -> list[str]:
        return list(self.metadata.get("redirect_uris") or ())

    # -- ClientMixin -------------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scope, or the client's registered scope, or the
        server's scopes when neither is given (:rfc:`6749#section-3.3`)."""
        if scope:
            return " ".join(dict.fromkeys(scope_to_list(scope)))
        registered = self.metadata.get("scope")
        return registered if registered else " ".join(self.default_scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return any(redirect_uri_matches(r, redirect_uri) for r in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(digest(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # NOTE: a confidential client may use either secret method, whichever
        # it registered (RFC 7591 section 2 names one; both are as strong).
        if self.auth_method in SECRET_METHODS:
            return method in SECRET_METHODS
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type in (self.metadata.get("response_types") or ["code"])

    def check_grant_type(self, grant_type: str) -> bool:
        allowed = self.metadata.get("grant_types") or ["authorization_code"]
        return grant_type in allowed


@dataclass
class GrantUser:
    """The resource owner of one grant: who logged in upstream, and the
    grant (token family) their tokens belong to."""

    subject: str
    grant_id: str
    auth_time: int | None = None
    #: The MCP endpoint the tokens are for (their ``aud``); ``None``: the
    #: proxy's first endpoint.
    resource: str | None = None
    #: Only while the code is issued: upstream tokens and identity, to seal.
    upstream: UpstreamGrant | None = field(default=None, repr=False)

    def get_user_id(self) -> str:
        return self.subject


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    """An authorization code record (:rfc:`6749#section-4.1.2`), keyed by
    the digest of the code."""

    client_id: str
    redirect_uri: str | None
    scope: str
    code_challenge: str
    code_challenge_method: str
    grant_id: str
    subject: str
    auth_time: int | None = None
    #: The MCP endpoint the code's tokens are for (:rfc:`8707`).
    resource: str | None = None

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class IssuedToken(TokenMixin):
    """A refresh token record, or the claims of one of our access tokens,
    as the refresh grant and the revocation endpoint see it."""

    client_id: str
    grant_id: str
    subject: str
    scope: str
    kind: str = "refresh_token"
    #: The MCP endpoint the token's access tokens are for (:rfc:`8707`).
    resource: str | None = None

    def check_client(self, client: ClientMixin) -> bool:
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return 0

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return False
