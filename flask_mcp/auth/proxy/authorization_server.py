"""The proxy's authorization server: authlib's Flask ``AuthorizationServer``
with the store as its database.

Grants, endpoints and extensions are composed the authlib way
(``register_grant``, ``register_endpoint``, ``register_extension``): the code
grant with PKCE ``S256`` and resource indicators, the refresh grant, dynamic
client registration (:rfc:`7591`), revocation (:rfc:`7009`) and the ``iss``
authorization response parameter (:rfc:`9207`).
"""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Callable
from collections.abc import Sequence
from functools import cached_property

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskJsonPayload
from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Request
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Response
from flask import request as flask_request
from joserfc.jwk import KeySet

from ... import signals
from .announce import announce
from .assertion_grant import IdentityAssertionGrant
from .cimd.assertion import PrivateKeyJWT
from .cimd.clients import ClientDocuments
from .client_metadata import parse_json_object
from .enterprise import AssertionVerifier
from .grants import AuthorizationCodeGrant
from .grants import RefreshTokenGrant
from .grants import ResourceIndicator
from .grants import S256CodeChallenge
from .keys import SigningKeys
from .machine_grant import MachineClientGrant
from .models import Client
from .models import IssuedToken
from .server_metadata import ENDPOINTS
from .storage import ProxyStorage
from .tokens import AccessTokenGenerator

log = logging.getLogger(__name__)


class _IssuerParameter(IssuerParameter):
    """:rfc:`9207`: ``iss`` on every authorization response, errors included."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        return self.issuer


class _Request(FlaskOAuth2Request):
    # NOTE: authlib refuses a request whose URL is not https. Behind a
    # TLS-terminating proxy Flask sees http, so the URL is rebuilt on the
    # configured issuer, which is what clients actually reach.
    def __init__(self, issuer: str) -> None:
        OAuth2Request.__init__(
            self,
            flask_request.method,
            issuer + flask_request.full_path.rstrip("?"),
            headers=flask_request.headers,
        )
        self._request = flask_request
        self.payload = FlaskOAuth2Payload(flask_request)


class _JsonPayload(FlaskJsonPayload):
    @cached_property
    def data(self) -> dict[str, t.Any] | None:
        if not self._request.is_json:
            return None
        return parse_json_object(self._request.get_data(cache=True))


class StoredAuthorizationRequest(OAuth2Request):
    """An authorization request replayed from the parameters saved when the
    browser first came, to finish it after consent and the upstream login."""

    def __init__(self, uri: str, params: dict[str, str]) -> None:
        super().__init__("GET", uri)
        self.payload = BasicOAuth2Payload(params)
        self.params = params

    @property
    def args(self) -> dict[str, str]:
        return self.params

    @property
    def form(self) -> dict[str, str]:
        return {}


def _endpoint_of(request: t.Any) -> str:
    """``token``, ``revoke``...: the last part of the request's path."""
    path = str(getattr(request, "uri", "") or "").partition("?")[0]
    return path.rpartition("/")[2] or "token"


class ProxyAuthorizationServer(AuthorizationServer):
    """One per app and proxy; lives in the proxy's per-app state.

    :param resources: the URLs of the MCP endpoints behind the proxy (a live
        list: endpoints added later count), the audiences of its tokens.
    :param end_grant: ends a grant (token family) and revokes its upstream
        tokens; called on code replay, refresh token reuse and revocation.
    :param documents: the clients identified by a metadata document (a URL
        ``client_id``); ``None``: such client ids are unknown.
    :param refresh_grace: seconds a refresh token's answer is given again
        (:class:`~.grants.RefreshTokenGrant`); ``0``: never.
    :param client_credentials: serve the client credentials grant
        (:class:`~.machine_grant.MachineClientGrant`).
    :param assertions: checks ID-JAGs of enterprise IdPs; with it, the JWT
        bearer grant is served (:class:`~.assertion_grant.IdentityAssertionGrant`).
    """

    def __init__(
        self,
        *,
        issuer: str,
        resources: Sequence[str],
        scopes: Sequence[str],
        storage: ProxyStorage,
        keys: SigningKeys,
        access_token_ttl: int,
        end_grant: Callable[..., object],
        documents: ClientDocuments | None = None,
        refresh_grace: float = 0.0,
        client_credentials: bool = False,
        assertions: AssertionVerifier | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__()
        self.issuer = issuer
        #: The upstream provider's name, for the token events it announces.
        self.provider = provider
        self.refresh_grace = refresh_grace
        self.access_token_ttl = access_token_ttl
        self.assertions = assertions
        self.resources = resources
        self.scopes_supported = list(scopes)
        self.storage = storage
        self.end_grant = end_grant
        self.register_token_generator(
            "default", AccessTokenGenerator(issuer, resources, keys, access_token_ttl)
        )
        self.resource_indicator = ResourceIndicator(resources)
        self.register_grant(
            AuthorizationCodeGrant,
            [S256CodeChallenge(required=True), self.resource_indicator],
        )
        self.register_grant(RefreshTokenGrant, [self.resource_indicator])
        if client_credentials:
            self.register_grant(MachineClientGrant)
        if assertions is not None:
            self.register_grant(IdentityAssertionGrant)
        self.issuer_parameter = _IssuerParameter(issuer)
        self.register_extension(self.issuer_parameter)
        self.documents = documents
        self.register_client_auth_method(
            PrivateKeyJWT.CLIENT_AUTH_METHOD,
            PrivateKeyJWT(
                audiences=[
                    issuer + ENDPOINTS["token_endpoint"],
                    issuer + ENDPOINTS["revocation_endpoint"],
                    issuer,
                ],
                store=storage.store,
                keys=self._client_keys,
            ),
        )

    def query_client(self, client_id: str) -> Client | None:
        """The registered client ``client_id``, or the one its metadata
        document describes (``client_id`` is then its URL).

        :raises InvalidClientError: for a metadata document that cannot be
            fetched or is refused (authlib's own answer to ``None``, with
            the reason).
        """
        if self.documents is not None and self.documents.handles(client_id):
            client: Client | None = self.documents.client(client_id)
        else:
            client = self.storage.client(client_id)
        if client is not None:
            client.default_scopes = tuple(self.scopes_supported)
        return client

    def _client_keys(self, client: Client) -> KeySet:
        if self.documents is None:  # only document clients use private_key_jwt
            raise InvalidClientError(description="the client has no public keys")
        return self.documents.keys(client)

    def authenticate_client(
        self, request: OAuth2Request, methods: list[str], endpoint: str = "token"
    ) -> Client:
        # RFC 6749 section 5.2 allows 400 for a client that sent no header;
        # every failed client authentication answers 401 here, one rule.
        try:
            return t.cast(
                Client, super().authenticate_client(request, methods, endpoint)
            )
        except InvalidClientError as error:
            error.status_code = 401
            raise
        except (ValueError, UnicodeDecodeError):
            # An Authorization header authlib cannot parse (not Basic, not
            # UTF-8): no client was authenticated.
            raise InvalidClientError(
                status_code=401, description="malformed client credentials"
            ) from None

    def save_token(self, token: dict[str, t.Any], request: OAuth2Request) -> None:
        user = request.user
        refresh = token.get("refresh_token")
        if refresh:
            # A rotated refresh token keeps the scope of the original grant
            # even when this refresh asked for less (RFC 6749 section 6).
            previous = request.refresh_token
            scope = previous.scope if previous else token.get("scope", "")
            self.storage.save_refresh(
                refresh,
                IssuedToken(
                    client_id=request.client.client_id,
                    grant_id=user.grant_id,
                    subject=user.subject,
                    scope=scope,
                    resource=user.resource,
                ),
            )
            self.storage.update_grant(user.grant_id, extend=True)
        else:
            # No refresh token: the grant lives as long as its access token.
            self.storage.update_grant(
                user.grant_id, lifetime=float(token.get("expires_in") or 0)
            )
            # A machine client never logs in: its use renews the
            # registration, as a login renews a browser client's.
            if request.client.document_host is None:
                self.storage.save_client(request.client)
        announce(
            signals.token_refreshed if request.refresh_token else signals.token_issued,
            subject=user.subject,
            client_id=request.client.client_id,
            grant_id=user.grant_id,
            provider=self.provider,
        )

    def handle_error_response(self, request: t.Any, error: OAuth2Error) -> t.Any:
        """Every refusal of the token endpoint passes here."""
        log.info(
            "%s endpoint refused: %s (%s)",
            _endpoint_of(request),
            error.error,
            error.description or "",
        )
        return super().handle_error_response(request, error)

    def validate_requested_scope(self, scope: str | None) -> None:
        # authlib lets any scope through when scopes_supported is empty; here
        # an empty list means that no scope may be asked for.
        if scope and not set(scope_to_list(scope)) <= set(self.scopes_supported):
            raise InvalidScopeError()

    def create_oauth2_request(self, request: t.Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return _Request(self.issuer)

    def create_json_request(self, request: t.Any) -> FlaskJsonRequest:
        json_request = FlaskJsonRequest(flask_request)
        json_request.payload = _JsonPayload(flask_request)
        return json_request

    def stored_request(self, params: dict[str, str]) -> StoredAuthorizationRequest:
        return StoredAuthorizationRequest(self.issuer + "/oauth/authorize", params)

    def authorization_error(self, error: OAuth2Error) -> Response:
        """An error answer of the authorization endpoint that redirects to
        the client (``error``, ``state`` and ``iss``).

        Only for errors whose ``redirect_uri`` was validated.
        """
        response = t.cast(Response, self.handle_response(*error()))
        self.issuer_parameter.add_issuer_parameter(self, response)
        return response
