"""The grants of the proxy: authlib's, filled with store-backed hooks.

* :class:`AuthorizationCodeGrant` (:rfc:`6749#section-4.1`) whose codes are
  single-use across workers; a replayed code ends its grant.
* :class:`RefreshTokenGrant` (:rfc:`6749#section-6`) with rotation: every
  refresh token works once, and presenting a used one ends the whole token
  family (:rfc:`9700#section-4.14.2`).
* :class:`S256CodeChallenge`: PKCE (:rfc:`7636`) required, ``S256`` only, as
  MCP asks.
* :class:`ResourceIndicator`: the ``resource`` parameter (:rfc:`8707`) may
  only name this server's MCP endpoint.
"""

from __future__ import annotations

import logging
import secrets
import typing as t

from authlib.oauth2.rfc6749 import InvalidGrantError
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge

from ...errors import FlaskMCPError
from .models import AuthorizationCode
from .models import GrantUser
from .models import IssuedToken

if t.TYPE_CHECKING:
    from .storage import ProxyStorage

log = logging.getLogger(__name__)

#: The client authentication methods a registration (RFC 7591) may name.
REGISTERED_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
#: Every client authentication method the token and revocation endpoints
#: accept: also ``private_key_jwt``, of clients identified by a metadata
#: document (:mod:`.cimd`).
CLIENT_AUTH_METHODS = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
]


class InvalidTargetError(FlaskMCPError, OAuth2Error):
    """The requested resource is not one this server issues tokens for
    (:rfc:`8707#section-2`)."""

    error = "invalid_target"
    description = "The requested resource is not this server's MCP endpoint."


class GrantServer(t.Protocol):
    """What the grants use of their authorization server (authlib sets
    ``grant.server``): a protocol, so the server module may import the grants
    and not the other way round."""

    storage: ProxyStorage
    resource_indicator: ResourceIndicator

    def end_grant(self, grant_id: str) -> None: ...


class S256CodeChallenge(CodeChallenge):
    """PKCE that is required at the authorization endpoint, ``S256`` only.

    authlib's :class:`CodeChallenge` lets a request without a challenge pass
    the authorization endpoint; MCP requires one (``invalid_request``).
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: t.Any, redirect_uri: t.Any) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be 'S256'")
        super().validate_code_challenge(grant, redirect_uri)


class ResourceIndicator:
    """Grant extension checking ``resource`` (:rfc:`8707#section-2`): one
    value, naming one of the MCP endpoints behind this proxy; at the token
    endpoint, the endpoint the code or refresh token was issued for.

    NOTE: a request without ``resource`` is accepted and gets tokens for the
    first MCP endpoint (MCP clients MUST send it, but :rfc:`8707` makes it
    optional).

    :param resources: the endpoints' URLs, a live list (an endpoint added to
        the proxy later is accepted too).
    """

    def __init__(self, resources: t.Sequence[str]) -> None:
        self.resources = resources

    def __call__(self, grant: grants.BaseGrant) -> None:
        grant.register_hook(
            "after_validate_authorization_request_payload", self.validate
        )
        grant.register_hook("after_validate_token_request", self.validate)

    def requested(self, request: OAuth2Request) -> str | None:
        """The endpoint ``request`` names, ``None`` if it names none.

        :raises InvalidTargetError: for several values or an unknown one.
        """
        values = {
            value.rstrip("/") for value in request.payload.datalist.get("resource", [])
        }
        if len(values) > 1:
            raise InvalidTargetError("one 'resource' per request")
        for value in values:
            for resource in self.resources:
                if value == resource.rstrip("/"):
                    return resource
            raise InvalidTargetError()
        return None

    def validate(self, grant: grants.BaseGrant, result: t.Any = None) -> None:
        requested = self.requested(grant.request)
        issued = getattr(
            grant.request.authorization_code or grant.request.refresh_token,
            "resource",
            None,
        )
        if requested and issued and requested != issued:
            raise InvalidTargetError("the grant is for another resource")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """Codes in the store, consumed with ``take``; a replay ends the grant."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: GrantServer

    def generate_authorization_code(self) -> str:
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        user: GrantUser = request.user
        client = request.client
        assert user.upstream is not None, "a code is issued after an upstream login"
        self.server.storage.create_grant(
            user.grant_id, client.client_id, user.subject, user.upstream
        )
        data = request.payload.data
        record = AuthorizationCode(
            client_id=client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "",
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            grant_id=user.grant_id,
            subject=user.subject,
            auth_time=user.auth_time,
            resource=self.server.resource_indicator.requested(request),
        )
        self.server.storage.save_code(code, record)
        if client.document_host is None:  # a login renews the registration
            self.server.storage.save_client(client)

    def query_authorization_code(
        self, code: str, client: t.Any
    ) -> AuthorizationCode | None:
        record, replayed = self.server.storage.redeem_code(code)
        if replayed:
            log.warning("authorization code replayed: ending grant %s", replayed)
            self.server.end_grant(replayed)
            return None
        if record is None:
            return None
        if record.client_id != client.client_id:
            # Another client holds this client's code: it leaked. The code is
            # spent either way; end the grant it would have opened.
            log.warning("code of client %s presented by another", record.client_id)
            self.server.end_grant(record.grant_id)
            return None
        self._redeemed = record
        return record

    def validate_token_request(self) -> None:
        try:
            super().validate_token_request()
        except OAuth2Error:
            # The code is spent (wrong verifier, redirect URI, resource...):
            # the grant it would have opened goes, upstream tokens included.
            record = getattr(self, "_redeemed", None)
            if record is not None:
                self.server.end_grant(record.grant_id)
            raise

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing to do: :meth:`query_authorization_code` consumed it."""

    def authenticate_user(
        self, authorization_code: AuthorizationCode
    ) -> GrantUser | None:
        if self.server.storage.grant(authorization_code.grant_id) is None:
            return None
        return GrantUser(
            subject=authorization_code.subject,
            grant_id=authorization_code.grant_id,
            auth_time=authorization_code.auth_time,
            resource=authorization_code.resource,
        )


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Rotating refresh tokens with reuse detection.

    The request is validated against the token's record first (client,
    scope, resource), so that a refused request does not spend the token;
    the token is consumed (``take``) only when new tokens are issued, and of
    racing requests exactly one does.
    """

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: GrantServer

    def validate_token_request(self) -> None:
        super().validate_token_request()
        # authlib runs no hooks here; extensions (ResourceIndicator) expect them.
        self.execute_hook("after_validate_token_request", None)

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        storage = self.server.storage
        record = storage.find_refresh(refresh_token)
        if record is None:
            self._reused(storage.refresh_reused(refresh_token))
            return None
        if record.client_id != self.request.client.client_id:
            log.warning("refresh token of %s presented by another", record.client_id)
            self.server.end_grant(record.grant_id)
            return None
        if storage.grant(record.grant_id) is None:
            return None
        return record

    def create_token_response(self) -> tuple[int, t.Any, t.Any]:
        token = self.request.form["refresh_token"]
        record, reused = self.server.storage.rotate_refresh(token)
        if record is None:  # another request rotated it meanwhile
            self._reused(reused)
            raise InvalidGrantError()
        return t.cast(tuple[int, t.Any, t.Any], super().create_token_response())

    def _reused(self, grant_id: str | None) -> None:
        if grant_id:
            log.warning("refresh token reused: ending grant %s", grant_id)
            self.server.end_grant(grant_id)

    def authenticate_user(self, refresh_token: IssuedToken) -> GrantUser:
        return GrantUser(
            subject=refresh_token.subject,
            grant_id=refresh_token.grant_id,
            resource=refresh_token.resource,
        )

    def revoke_old_credential(self, refresh_token: IssuedToken) -> None:
        """Nothing to do: :meth:`create_token_response` consumed it."""
