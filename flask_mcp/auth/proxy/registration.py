"""Dynamic client registration (:rfc:`7591`) and token revocation (:rfc:`7009`):
authlib's endpoints over the proxy's storage.

Registration accepts public clients (``token_endpoint_auth_method: none``)
and confidential ones (a secret is issued once and stored as its digest).
Redirect URIs follow :mod:`.redirects`; a bad one is ``invalid_redirect_uri``,
any other bad field ``invalid_client_metadata`` (:rfc:`7591#section-3.2.2`).
With ``registration_token`` set, the endpoint wants it as a Bearer initial
access token (:rfc:`7591#section-3`); such clients are *vetted*: their
redirect URIs are trusted with error redirects.

What one registration may hold is bounded (:class:`~.limits.OAuthLimits`):
the number and length of redirect URIs, the length of every string, the
size of the metadata kept; JSON nested deeper than :data:`MAX_DEPTH` is
refused before anything else looks at it. A registration that is never used
for a login expires after ``unused_client_ttl``; the first login keeps it
for two years, and every later one renews that.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import typing as t
from collections.abc import Callable
from collections.abc import Sequence

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientMetadataClaims
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7591 import InvalidClientMetadataError
from authlib.oauth2.rfc7591 import InvalidRedirectURIError

from .grants import CLIENT_AUTH_METHODS
from .limits import OAuthLimits
from .models import SECRET_METHODS
from .models import Client
from .models import IssuedToken
from .redirects import RedirectPattern
from .redirects import check_redirect_uri
from .sealing import digest
from .storage import ProxyStorage
from .tokens import AccessTokenValidator

__all__ = ["ProxyClientRegistrationEndpoint", "ProxyRevocationEndpoint"]

log = logging.getLogger(__name__)

#: Longest ``client_name`` kept; it is shown on the consent page.
MAX_NAME = 100
#: Deepest nesting of a registration body (client metadata needs about 5).
MAX_DEPTH = 16


def parse_json_object(body: bytes) -> dict[str, t.Any] | None:
    """The JSON object of a request body, ``None`` if it is not one.

    :raises InvalidClientMetadataError: for JSON nested deeper than
        :data:`MAX_DEPTH` (however deep: the parser's own recursion limit
        is caught too).
    """
    try:
        document = json.loads(body)
    except RecursionError:
        document = _TOO_DEEP
    except ValueError:
        return None
    if document is _TOO_DEEP or _depth(document) > MAX_DEPTH:
        raise InvalidClientMetadataError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return document if isinstance(document, dict) else None


_TOO_DEEP = object()


def _depth(document: t.Any) -> int:
    """How deeply ``document`` nests, without recursion."""
    deepest, level = 0, [(document, 1)]
    while level:
        value, depth = level.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                items = value.values() if isinstance(value, dict) else value
                level.extend((item, depth + 1) for item in items)
    return deepest


def _strings(value: t.Any, path: str = "") -> t.Iterator[tuple[str, str]]:
    """Every string in ``value`` (keys too), with the field it is in."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path or str(key), str(key)
            yield from _strings(item, path or str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)


class _ClientMetadataClaims(ClientMetadataClaims):  # type: ignore[misc]  # authlib is untyped
    def validate_redirect_uris(self) -> None:
        """Checked before, by the endpoint's redirect policy."""

    def validate_client_name(self) -> None:
        name = self.get("client_name")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            raise InvalidClientMetadataError(
                f"'client_name' must be a string of at most {MAX_NAME} characters"
            )

    def validate_grant_types(self) -> None:
        grant_types = self.get("grant_types")
        if grant_types is not None and (
            not isinstance(grant_types, list) or "authorization_code" not in grant_types
        ):
            raise InvalidClientMetadataError(
                "'grant_types' must include 'authorization_code'"
            )


class ProxyClientRegistrationEndpoint(ClientRegistrationEndpoint):  # type: ignore[misc]  # authlib is untyped
    """:rfc:`7591#section-3` over the proxy's storage.

    :param metadata: the server's RFC 8414 document; its supported values
        bound what a client may register.
    :param patterns: the redirect URI allow-list, or ``None``.
    :param registration_token: initial access token, or ``None`` for open
        registration.
    :param limits: what one registration may hold, and how long it lives
        unused.
    """

    def __init__(
        self,
        *,
        storage: ProxyStorage,
        metadata: dict[str, t.Any],
        patterns: Sequence[RedirectPattern] | None,
        registration_token: str | None,
        limits: OAuthLimits,
    ) -> None:
        super().__init__(claims_classes=[_ClientMetadataClaims])
        self.storage = storage
        self.metadata = metadata
        self.patterns = patterns
        self.registration_token = registration_token
        self.limits = limits

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
        limits = self.limits
        uris = data.get("redirect_uris")
        if not isinstance(uris, list) or not uris:
            raise InvalidRedirectURIError("'redirect_uris' must be a non-empty array")
        if len(uris) > limits.max_redirect_uris:
            raise InvalidRedirectURIError(
                f"at most {limits.max_redirect_uris} redirect URIs may be registered"
            )
        for uri in uris:
            if isinstance(uri, str) and len(uri) > limits.max_field_length:
                raise InvalidRedirectURIError(
                    f"a redirect URI is longer than {limits.max_field_length}"
                    " characters"
                )
            try:
                check_redirect_uri(uri, self.patterns)
            except ValueError as error:
                raise InvalidRedirectURIError(str(error)) from None
        metadata = t.cast(dict[str, t.Any], super().extract_client_metadata(request))
        metadata.setdefault("grant_types", ["authorization_code"])
        metadata.setdefault("response_types", ["code"])
        for name, value in _strings(metadata):
            if len(value) > limits.max_field_length:
                raise InvalidClientMetadataError(
                    f"'{name}' holds a string longer than {limits.max_field_length}"
                    " characters"
                )
        size = len(json.dumps(metadata, separators=(",", ":")).encode())
        if size > limits.max_metadata:
            raise InvalidClientMetadataError(
                f"the client metadata is larger than {limits.max_metadata} bytes"
            )
        return metadata

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


class ProxyRevocationEndpoint(RevocationEndpoint):  # type: ignore[misc]  # authlib is untyped
    """:rfc:`7009`: revoking either token of a grant ends the whole grant,
    upstream tokens included (section 2.1 allows that)."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def __init__(
        self,
        *,
        storage: ProxyStorage,
        validator: AccessTokenValidator,
        end_grant: Callable[[str], None],
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
        self.end_grant(token.grant_id)
