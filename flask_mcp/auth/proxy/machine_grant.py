"""The client credentials grant (:rfc:`6749#section-4.4`) for machine clients:
:class:`MachineClientGrant`.

A CI job or a bot has no user to sign in; it authenticates as itself and
gets a token for itself (``sub`` is its client id, :rfc:`9068#section-2.2`).
Off by default (``client_credentials=True`` turns it on), and then only for
clients the operator vetted:

* confidential (a client secret or ``private_key_jwt``; else
  ``invalid_client``), registered with the registration token and with
  ``client_credentials`` among their grant types (else
  ``unauthorized_client``);
* for the scopes they registered, at most: requested scopes beyond them are
  left out (the answer's ``scope`` says what was granted), a request for
  none of them is ``invalid_scope``, one without ``scope`` gets them all (a
  client that registered none gets none).

No refresh token: the client asks again when the access token expires.
"""

from __future__ import annotations

import secrets
import typing as t

from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc6749 import UnauthorizedClientError
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.util import scope_to_list

from .assertion_grant import CONFIDENTIAL_METHODS
from .models import GrantUser
from .records import CLIENT
from .records import UpstreamGrant
from .tokens import DecidedScope

if t.TYPE_CHECKING:
    from .grants import GrantServer


class MachineClientGrant(grants.ClientCredentialsGrant):
    """``grant_type=client_credentials`` for vetted confidential clients."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_METHODS
    server: GrantServer

    def validate_token_request(self) -> None:
        super().validate_token_request()  # client authentication, grant type
        client = self.request.client
        if not client.vetted:
            raise UnauthorizedClientError(
                "only clients registered with the registration token may use"
                " client_credentials"
            )
        registered = scope_to_list(client.metadata.get("scope")) or []
        requested = scope_to_list(self.request.payload.scope) or []
        # Scopes it did not register are left out (RFC 6749 3.3: the answer's
        # ``scope`` says what was granted); none of them at all is refused.
        granted = [s for s in dict.fromkeys(requested) if s in registered]
        if requested and not granted:
            raise InvalidScopeError(
                f"the client did not register the scope {' '.join(requested)}"
            )
        self._scope = " ".join(granted if requested else registered)
        resource = self.server.resource_indicator.requested(self.request)
        self.request.user = GrantUser(
            subject=client.client_id,
            grant_id=secrets.token_urlsafe(24),
            resource=self.server.resource_indicator.effective(resource),
        )

    def create_token_response(self) -> tuple[int, t.Any, t.Any]:
        user: GrantUser = self.request.user
        client_id = self.request.client.client_id
        self.server.storage.create_grant(
            user.grant_id,
            client_id,
            user.subject,
            UpstreamGrant(tokens=None, identity={"sub": client_id}),
            kind=CLIENT,
            ttl=self.server.access_token_ttl,
        )
        token = self.generate_token(
            scope=DecidedScope(self._scope), user=user, include_refresh_token=False
        )
        token["scope"] = self._scope
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
