"""The JWT bearer grant (:rfc:`7523`) carrying an Identity Assertion JWT
Authorization Grant (ID-JAG) from an enterprise IdP: :class:`IdentityAssertionGrant`.

authlib's :class:`~authlib.oauth2.rfc7523.JWTBearerGrant` takes the JWT's
issuer for the client; here the issuer is the company's IdP and the client
authenticates on its own (confidential clients only: the draft's "SHOULD only
be supported for confidential clients"), so validation is this module's:

1. the client authenticates (``client_secret_*`` or ``private_key_jwt``) and
   registered the grant type; else ``invalid_client`` / ``unauthorized_client``;
2. the assertion is checked (:class:`~.enterprise.AssertionVerifier`):
   ``invalid_grant`` naming what failed, ``temporarily_unavailable`` (503)
   when the IdP's keys cannot be fetched;
3. its ``resource`` must name one of our MCP endpoints, and the request's
   ``resource``, if any, one of the assertion's: else ``invalid_target``;
4. the scopes granted are those asked for (or, without ``scope``, all the
   assertion allows) within the assertion's ``scope``, the IdP's cap and the
   proxy's scopes; asking for none of them is ``invalid_scope``;
5. last, the ``jti`` is spent (a replay: ``invalid_grant``).

The answer has an access token and no refresh token (the draft: the client
comes back with a new ID-JAG), plus the ``scope`` and ``resource`` granted.
"""

from __future__ import annotations

import logging
import secrets
import typing as t

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc6749 import UnauthorizedClientError
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7523 import JWTBearerGrant

from .enterprise import JWT_BEARER
from .enterprise import IdentityAssertion
from .grants import InvalidTargetError
from .models import GrantUser
from .records import ASSERTION
from .records import UpstreamGrant
from .tokens import DecidedScope

if t.TYPE_CHECKING:
    from .grants import GrantServer


log = logging.getLogger(__name__)

#: How a client presenting an assertion may authenticate: never ``none``.
CONFIDENTIAL_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


class IdentityAssertionGrant(JWTBearerGrant):
    """``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` with an
    ID-JAG as ``assertion`` (see the module docstring)."""

    GRANT_TYPE = JWT_BEARER
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_METHODS
    server: GrantServer

    def validate_token_request(self) -> None:
        assertion = self.request.form.get("assertion")
        if not assertion:
            raise InvalidRequestError("missing 'assertion'")
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(
                f"the client did not register grant_type {self.GRANT_TYPE}"
            )
        self.request.client = client
        self.validate_requested_scope()
        verifier = self.server.assertions
        assert verifier is not None, "registered only with enterprise IdPs"
        verified = verifier.verify(assertion, client.client_id)
        resource = self._resource(verified)
        self._scope = self._granted_scope(verified)
        verifier.consume(verified)
        self._assertion = verified
        self.request.user = GrantUser(
            subject=verified.subject,
            grant_id=secrets.token_urlsafe(24),
            resource=resource,
        )

    def _resource(self, verified: IdentityAssertion) -> str:
        """The endpoint the token is for: the request's ``resource`` if it
        is one the assertion names, else the first endpoint it names."""
        indicator = self.server.resource_indicator
        ours = {r.rstrip("/"): r for r in self.server.resources}
        named = [
            ours[r.rstrip("/")] for r in verified.resources if r.rstrip("/") in ours
        ]
        requested = indicator.requested(self.request)  # InvalidTargetError if foreign
        if requested is not None:
            if requested not in named:
                raise InvalidTargetError(
                    "the assertion does not grant access to the requested resource"
                )
            return requested
        if not named:
            log.info("ID-JAG refused: resource %r is not ours", verified.resources)
            raise InvalidTargetError(
                "the assertion's resource is not an MCP endpoint of this server"
            )
        return named[0]

    def _granted_scope(self, verified: IdentityAssertion) -> str:
        allowed = list(self.server.scopes_supported)
        for cap in (verified.scopes, verified.idp.scopes):
            if cap is not None:
                allowed = [s for s in allowed if s in cap]
        requested = scope_to_list(self.request.payload.scope)
        granted = (
            [s for s in dict.fromkeys(requested) if s in allowed]
            if requested
            else allowed
        )
        if not granted and self.server.scopes_supported:
            raise InvalidScopeError(
                "the assertion grants none of the requested scopes"
                if requested
                else "the assertion grants none of this server's scopes"
            )
        return " ".join(granted)

    def create_token_response(self) -> tuple[int, t.Any, t.Any]:
        user: GrantUser = self.request.user
        client = self.request.client
        self.server.storage.create_grant(
            user.grant_id,
            client.client_id,
            user.subject,
            UpstreamGrant(tokens=None, identity=self._assertion.identity()),
            kind=ASSERTION,
            ttl=self.server.access_token_ttl,
        )
        token = self.generate_token(
            scope=DecidedScope(self._scope), user=user, include_refresh_token=False
        )
        token["scope"] = self._scope
        token["resource"] = user.resource
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
