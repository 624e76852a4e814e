"""An upstream OAuth 2.0 provider with explicit endpoints.

The authorization code grant (:rfc:`6749#section-4.1`) with PKCE S256
(:rfc:`7636`), refresh (:rfc:`6749#section-6`) and revocation (:rfc:`7009`),
through Authlib's requests client. Every HTTP call has a timeout; every
failure becomes an :class:`~flask_mcp.auth.providers.UpstreamError`. Tokens
never reach the log.
"""

from __future__ import annotations

import logging
import time
import typing as t
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass

from authlib.oauth2.client import DEFAULT_HEADERS

from .client import UpstreamClient
from .client import calling
from .client import check_verifier
from .options import ProviderOptions
from .provider import OAuthSession
from .provider import UpstreamError
from .provider import UpstreamTokens
from .upstream_responses import read_json
from .upstream_responses import split_scopes
from .upstream_responses import str_or_none
from .upstream_responses import to_tokens
from .upstream_responses import with_subject

logger = logging.getLogger(__name__)


@dataclass(kw_only=True, eq=False, repr=False)
class OAuthProvider(ProviderOptions):
    """An upstream OAuth 2.0 authorization server with explicit endpoints.

    Takes the settings of :class:`~.options.ProviderOptions` (``base_url``,
    ``client_id``, ``client_secret``, ``scopes``, ``timeout``...) and:

    :param authorize_url: the authorization endpoint.
    :param token_url: the token endpoint.
    :param userinfo_url: where :meth:`identity` reads the user (a JSON object
        with ``sub`` or ``id``).
    :param revocation_url: the :rfc:`7009` endpoint; without it :meth:`revoke`
        does nothing.
    """

    authorize_url: str | None = None
    token_url: str | None = None
    userinfo_url: str | None = None
    revocation_url: str | None = None

    #: The session type handed to tools.
    session_class: t.ClassVar[type[OAuthSession]] = OAuthSession
    #: Separators of a ``scope`` answer besides spaces (GitHub uses commas).
    scope_separators: t.ClassVar[str] = ""
    #: Headers of token endpoint requests, over Authlib's defaults.
    token_headers: t.ClassVar[Mapping[str, str]] = {}
    #: Whether a refresh request repeats the scopes (Microsoft requires it).
    refresh_with_scope: t.ClassVar[bool] = False
    #: Whether endpoints may come from discovery instead of the settings.
    discovers_endpoints: t.ClassVar[bool] = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.discovers_endpoints and not (self.authorize_url and self.token_url):
            raise ValueError("authorize_url and token_url are required")
        self._endpoints: dict[str, str | None] = {
            "authorization_endpoint": self.authorize_url or None,
            "token_endpoint": self.token_url or None,
            "userinfo_endpoint": self.userinfo_url or None,
            "revocation_endpoint": self.revocation_url or None,
        }

    def endpoint(self, name: str) -> str | None:
        """The URL of endpoint ``name`` (metadata names: ``token_endpoint``...)."""
        return self._endpoints.get(name)

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        """Where to send the browser: ``state``, PKCE S256 and the scopes."""
        check_verifier(code_verifier)
        params = {**self.extra_authorize_params, **self.authorize_params(code_verifier)}
        url = self._required("authorization_endpoint")
        with self._client() as client:
            location, _ = client.create_authorization_url(
                url,
                state=state,
                code_verifier=code_verifier,
                scope=" ".join(self.scopes) or None,
                **params,
            )
        return t.cast(str, location)

    def exchange_code(self, *, code: str, code_verifier: str) -> UpstreamTokens:
        """Redeem ``code`` at the token endpoint.

        :raises UpstreamError: upstream's error code (``invalid_grant``...),
            ``server_error``, or ``temporarily_unavailable`` on a timeout.
        """
        check_verifier(code_verifier)
        url = self._required("token_endpoint")
        with self._client() as client, self._calling("token endpoint"):
            received_at = time.time()
            client.fetch_token(
                url,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                headers={**DEFAULT_HEADERS, **self.token_headers},
            )
            payload = client.payload
            return to_tokens(payload, received_at, self.scopes, self.parse_scopes)

    def refresh(self, refresh_token: str) -> UpstreamTokens:
        """New tokens for ``refresh_token``; the old refresh token is kept in
        the result when upstream does not rotate it.

        :raises UpstreamError: as :meth:`exchange_code`.
        """
        url = self._required("token_endpoint")
        scope = {"scope": " ".join(self.scopes)} if self.refresh_with_scope else {}
        with self._client() as client, self._calling("token endpoint"):
            received_at = time.time()
            client.refresh_token(
                url,
                refresh_token=refresh_token,
                headers={**DEFAULT_HEADERS, **self.token_headers},
                **scope,
            )
            payload, scopes = client.payload, self.scopes
            return to_tokens(
                payload, received_at, scopes, self.parse_scopes, refresh_token
            )

    def revoke(self, tokens: UpstreamTokens) -> None:
        """Revoke the refresh token, else the access token (best effort:
        failures are logged, never raised)."""
        token, hint = (
            (tokens.refresh_token, "refresh_token")
            if tokens.refresh_token
            else (tokens.access_token, "access_token")
        )
        try:
            url = self.endpoint("revocation_endpoint")
            if not url:
                logger.debug("%s: no revocation endpoint, nothing revoked", self.name)
                return
            with self._client() as client, self._calling("revocation endpoint"):
                response = client.revoke_token(url, token=token, token_type_hint=hint)
                if not 200 <= response.status_code < 300:
                    read_json(response, "revocation endpoint")
        except UpstreamError:
            return  # logged by _calling
        logger.debug("%s: %s revoked", self.name, hint)

    def identity(self, tokens: UpstreamTokens) -> dict[str, t.Any]:
        """The userinfo endpoint's answer, with ``sub`` as a string.

        :raises UpstreamError: ``invalid_token`` when upstream refuses the
            token, ``server_error`` without a userinfo endpoint or a subject.
        """
        url = self._required("userinfo_endpoint")
        return with_subject(self.get_json(url, tokens, "userinfo endpoint"))

    def session(
        self,
        tokens: UpstreamTokens,
        identity: Mapping[str, t.Any],
        *,
        scopes: frozenset[str],
        client_id: str,
    ) -> OAuthSession:
        """The typed session handed to tools; :meth:`session_fields` adds the
        fields of :attr:`session_class`."""
        # An address upstream says it did not verify is no identity.
        verified = identity.get("email_verified") not in (False, "false")
        return self.session_class(
            subject=str(identity["sub"]),
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            id_token=tokens.id_token,
            expires_at=tokens.expires_at,
            scopes=frozenset(scopes),
            email=str_or_none(identity.get("email")) if verified else None,
            name=str_or_none(identity.get("name")),
            client_id=client_id,
            claims=dict(identity),
            roles=self.roles(identity),
            **self.session_fields(identity),
        )

    def authorize_params(self, code_verifier: str) -> dict[str, str]:
        """Query parameters this provider adds to each authorization URL."""
        return {}

    def session_fields(self, identity: Mapping[str, t.Any]) -> dict[str, t.Any]:
        """Keyword arguments of :attr:`session_class` beyond :class:`OAuthSession`."""
        return {}

    def roles(self, identity: Mapping[str, t.Any]) -> frozenset[str]:
        """The user's roles (:attr:`OAuthSession.roles`); none by default."""
        return frozenset()

    def parse_scopes(self, value: t.Any) -> tuple[str, ...]:
        """The scopes of a token response's ``scope`` member."""
        return split_scopes(value, self.scope_separators)

    def get_json(
        self,
        url: str,
        tokens: UpstreamTokens,
        what: str,
        headers: Mapping[str, str] | None = None,
    ) -> t.Any:
        """GET ``url`` with the access token; the JSON body.

        :raises UpstreamError: see :func:`~.responses.read_json`.
        """
        headers = {
            "Accept": "application/json",
            **(headers or {}),
            "Authorization": f"Bearer {tokens.access_token}",
        }
        with self._client() as client, self._calling(what):
            response = client.get(url, headers=headers, withhold_token=True)
            return read_json(response, what)

    def _calling(self, what: str) -> AbstractContextManager[None]:
        return calling(self.name, what, self.timeout)

    def _client(self) -> UpstreamClient:
        return UpstreamClient(
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_endpoint_auth_method=self.token_endpoint_auth_method,
            revocation_endpoint_auth_method=self.token_endpoint_auth_method,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            default_timeout=self.timeout,
        )

    def _required(self, endpoint: str) -> str:
        url = self.endpoint(endpoint)
        if not url:
            raise UpstreamError("server_error", f"{self.name} has no {endpoint}")
        return url
