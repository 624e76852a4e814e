"""Dynamic client registration (:rfc:`7591`) and token revocation (:rfc:`7009`):
authlib's endpoints over the proxy's storage.

Registration accepts public clients (``token_endpoint_auth_method: none``)
and confidential ones (a secret is issued once and stored as its digest).
The metadata is checked by :mod:`.client_metadata`: a bad redirect URI is
``invalid_redirect_uri``, any other bad field ``invalid_client_metadata``
(:rfc:`7591#section-3.2.2`).
With ``registration_token`` set, the endpoint wants it as a Bearer initial
access token (:rfc:`7591#section-3`); such clients are *vetted*: their
redirect URIs are trusted with error redirects.

What one registration may hold is bounded (:class:`~.limits.OAuthLimits`);
JSON nested too deeply is refused before anything else looks at it
(:func:`~.client_metadata.parse_json_object`). A registration that is never used
for a login expires after ``unused_client_ttl``; the first login keeps it
for two years, and every later one renews that.
"""

from __future__ import annotations

import hmac
import logging
import time
import typing as t
from collections.abc import Callable
from collections.abc import Sequence

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint

from ..hashing import digest
from .client_metadata import check_client_metadata
from .grants import CLIENT_AUTH_METHODS
from .limits import OAuthLimits
from .models import SECRET_METHODS
from .models import Client
from .models import IssuedToken
from .redirects import RedirectPattern
from .storage import ProxyStorage
from .tokens import AccessTokenValidator

log = logging.getLogger(__name__)


class ProxyClientRegistrationEndpoint(ClientRegistrationEndpoint):
    """:rfc:`7591#section-3` over the proxy's storage.

    :param metadata: the server's RFC 8414 document; its supported values
        bound what a client may register.
    :param patterns: the redirect URI allow-list, or ``None``.
    :param registration_token: initial access token, or ``None`` for open
        registration.
    :param limits: what one registration may hold, and how long it lives
        unused.
    :param grants_without_code: grant types a confidential client may
        register instead of the authorization code (``client_credentials``,
        the JWT bearer grant), when the proxy serves them.
    """

    def __init__(
        self,
        *,
        storage: ProxyStorage,
        metadata: dict[str, t.Any],
        patterns: Sequence[RedirectPattern] | None,
        registration_token: str | None,
        limits: OAuthLimits,
        grants_without_code: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        self.storage = storage
        self.metadata = metadata
        self.patterns = patterns
        self.registration_token = registration_token
        self.limits = limits
        self.grants_without_code = grants_without_code

    def authenticate_token(self, request: t.Any) -> bool:
        if self.registration_token is None:
            return True
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            digest(token.strip()), digest(self.registration_token)
        ):
            return True
        raise InvalidTokenError("a valid initial access token is required")

    def extract_client_metadata(self, request: t.Any) -> dict[str, t.Any]:
        data = request.payload.data
        if not data:
            raise InvalidRequestError("the body must be a JSON object")
        return check_client_metadata(
            data,
            server_metadata=self.metadata,
            patterns=self.patterns,
            limits=self.limits,
            grants_without_code=self.grants_without_code,
        )

    def generate_client_info(self, request: t.Any) -> dict[str, t.Any]:
        info = t.cast(dict[str, t.Any], super().generate_client_info(request))
        method = request.payload.data.get("token_endpoint_auth_method")
        if method not in SECRET_METHODS and method is not None:
            info.pop("client_secret")
            info.pop("client_secret_expires_at")
        return info

    def get_server_metadata(self) -> dict[str, t.Any]:
        return self.metadata

    def save_client(
        self,
        client_info: dict[str, t.Any],
        client_metadata: dict[str, t.Any],
        request: t.Any,
    ) -> Client:
        secret = client_info.get("client_secret")
        client = Client(
            client_id=client_info["client_id"],
            metadata=client_metadata,
            secret_hash=digest(secret) if secret else None,
            issued_at=int(client_info.get("client_id_issued_at", time.time())),
            vetted=self.registration_token is not None,
        )
        self.storage.save_client(client, self.limits.unused_client_ttl)
        log.info("registered client %s (%s)", client.client_id, client.name)
        return client


class ProxyRevocationEndpoint(RevocationEndpoint):
    """:rfc:`7009`: revoking either token of a grant ends the whole grant,
    upstream tokens included (section 2.1 allows that)."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def __init__(
        self,
        *,
        storage: ProxyStorage,
        validator: AccessTokenValidator,
        end_grant: Callable[..., object],
    ) -> None:
        super().__init__()
        self.storage = storage
        self.validator = validator
        self.end_grant = end_grant

    def check_params(self, request: t.Any, client: t.Any) -> None:
        # RFC 7009 section 2.1: "An invalid token type hint value is ignored
        # by the authorization server" (authlib answers 401 instead).
        if "token" not in request.form:
            raise InvalidRequestError("missing 'token'")

    def query_token(
        self, token_string: str, token_type_hint: str | None
    ) -> IssuedToken | None:
        # The hint only orders the lookups (RFC 7009 section 2.1).
        lookups = [self._refresh, self._access]
        if token_type_hint == "access_token":
            lookups.reverse()
        for lookup in lookups:
            token = lookup(token_string)
            if token is not None:
                return token
        return None

    def _refresh(self, token_string: str) -> IssuedToken | None:
        return self.storage.find_refresh(token_string)

    def _access(self, token_string: str) -> IssuedToken | None:
        try:
            claims = self.validator.verify(token_string)
        except InvalidTokenError:
            return None
        return IssuedToken(
            client_id=claims["client_id"],
            grant_id=claims["sid"],
            subject=claims["sub"],
            scope=claims.get("scope", ""),
            kind="access_token",
        )

    def revoke_token(self, token: IssuedToken, request: t.Any) -> None:
        self.end_grant(token.grant_id, reason="client")
