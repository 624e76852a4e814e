"""The grants of the proxy: authlib's, filled with store-backed hooks.

* :class:`AuthorizationCodeGrant` (:rfc:`6749#section-4.1`) whose codes are
  single-use across workers; a replayed code ends its grant.
* :class:`RefreshTokenGrant` (:rfc:`6749#section-6`) with rotation: every
  refresh token works once (a second refresh within a few seconds gets the
  same answer), and presenting a used one later ends the whole token family
  (:rfc:`9700#section-4.14.2`).
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
from ..hashing import digest
from .models import AuthorizationCode
from .models import GrantUser
from .models import IssuedToken
from .records import Rotation

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from .enterprise import AssertionVerifier
    from .storage import ProxyStorage

log = logging.getLogger(__name__)

#: Seconds a refresh waits for a racing refresh of the same token to finish.
_ROTATION_WAIT = 10.0


def _rotation_lock(token: str) -> str:
    """The lock held while ``token`` is rotated and its answer kept."""
    return f"refresh-rotation:{digest(token)}"


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
    #: The URLs of the MCP endpoints behind the proxy.
    resources: Sequence[str]
    scopes_supported: list[str]
    access_token_ttl: int
    #: Seconds a rotated refresh token's answer is given again.
    refresh_grace: float
    #: Checks ID-JAGs of enterprise IdPs (``None``: the grant is off).
    assertions: AssertionVerifier | None

    def end_grant(self, grant_id: str, reason: str = ...) -> None: ...


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

    def effective(self, resource: str | None) -> str:
        """The endpoint a grant recorded with ``resource`` is for: a grant
        made without one is for the first endpoint (its tokens' ``aud``)."""
        return resource or self.resources[0]

    def validate(self, grant: grants.BaseGrant, result: t.Any = None) -> None:
        requested = self.requested(grant.request)
        record = grant.request.authorization_code or grant.request.refresh_token
        if record is None or requested is None:
            return
        # A code or refresh token redeemed for another endpoint than it was
        # issued for, even one issued without ``resource`` (RFC 8707 2.2).
        if requested != self.effective(getattr(record, "resource", None)):
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
    """Rotating refresh tokens with reuse detection, and a grace period.

    The request is validated against the token's record first (client,
    scope, resource), so that a refused request does not spend the token;
    the token is consumed (``take``) only when new tokens are issued, and of
    racing requests exactly one does. The answer it got is kept (sealed) for
    ``refresh_grace`` seconds: a second refresh of the same token within
    them (two requests in flight, a client behind two egress addresses) gets
    the same new pair; one after them ends the family, as any reuse does
    (:rfc:`9700#section-4.14.2`).
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
            rotation = self._rotation(refresh_token)
            if rotation is None:
                self._reused(storage.refresh_reused(refresh_token))
                return None
            # Refreshed a moment ago (a second request in flight, another
            # egress address): checked as the token was, answered the same.
            record = IssuedToken(
                client_id=rotation.client_id,
                grant_id=rotation.grant_id,
                subject=rotation.subject,
                scope=rotation.scope,
                resource=rotation.resource,
            )
        if record.client_id != self.request.client.client_id:
            log.warning("refresh token of %s presented by another", record.client_id)
            self.server.end_grant(record.grant_id)
            return None
        if storage.grant(record.grant_id) is None:
            return None
        return record

    def _rotation(self, token: str) -> Rotation | None:
        """The answer a refresh of ``token`` got within the grace period;
        a refresh of it still in flight (its token taken, its answer not yet
        kept) is waited for."""
        if not self.grace:
            return None
        storage = self.server.storage
        rotation = storage.rotation(token)
        if rotation is None:
            with storage.store.lock(_rotation_lock(token), _ROTATION_WAIT):
                rotation = storage.rotation(token)
        return rotation

    @property
    def grace(self) -> float:
        """Seconds a rotated token's answer is given again (``refresh_grace``)."""
        return self.server.refresh_grace

    def create_token_response(self) -> tuple[int, t.Any, t.Any]:
        token = self.request.form["refresh_token"]
        storage = self.server.storage
        if not self.grace:
            return self._rotate(token)
        # Racing refreshes of one token queue here: the first rotates it and
        # keeps its answer; the others, on any worker, get that answer.
        with storage.store.lock(_rotation_lock(token), _ROTATION_WAIT):
            rotation = storage.rotation(token)
            if rotation is None:
                status, body, headers = self._rotate(token)
                record = self.request.refresh_token
                storage.remember_rotation(
                    token,
                    Rotation(
                        answer=dict(body),
                        client_id=record.client_id,
                        grant_id=record.grant_id,
                        subject=record.subject,
                        scope=record.scope,
                        resource=record.resource,
                    ),
                    self.grace,
                )
                return status, body, headers
        if storage.grant(rotation.grant_id) is None:  # revoked meanwhile
            raise InvalidGrantError()
        log.info("refresh token of grant %s refreshed again", rotation.grant_id)
        return 200, rotation.answer, self.TOKEN_RESPONSE_HEADER

    def _rotate(self, token: str) -> tuple[int, t.Any, t.Any]:
        """Consume ``token`` and issue the new pair."""
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
