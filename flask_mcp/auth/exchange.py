"""Tokens for another audience, on the user's behalf, from the upstream
authorization server: :rfc:`8693` token exchange (Keycloak, Okta, Auth0) here,
Microsoft Entra ID's on-behalf-of flow in :mod:`.on_behalf_of`.

An :class:`Exchanger` trades the user's token at the upstream (never sending
it to the downstream API: no token passthrough) for one whose audience is the
downstream API. :class:`~flask_mcp.auth.downstream.DownstreamTokens` caches
what it gets.
"""

from __future__ import annotations

import time
import typing as t
from collections.abc import Sequence
from dataclasses import dataclass

from .bounded_http import TOKEN_ANSWER_BYTES
from .bounded_http import bounded_session
from .providers.client import calling
from .providers.provider import UpstreamError
from .providers.upstream_responses import read_token_response
from .providers.upstream_responses import split_scopes
from .providers.upstream_responses import to_tokens

if t.TYPE_CHECKING:
    from .providers.oauth import OAuthProvider


#: :rfc:`8693#section-3` token type of OAuth access tokens.
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


class DownstreamError(UpstreamError):
    """No downstream token: the upstream refused or failed, or the session
    has no token to trade. Its message names the upstream call that failed
    (``call``) and the OAuth error; never a token."""

    def __str__(self) -> str:
        where = f"{self.call}: " if self.call else ""
        detail = f" ({self.description})" if self.description else ""
        return f"{where}{self.error}{detail}"


@dataclass(frozen=True)
class Exchanged:
    """A downstream access token."""

    access_token: str = ""
    token_type: str = "Bearer"
    #: Unix time it expires, ``None`` when the upstream did not say.
    expires_at: float | None = None
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Exchanged(expires_at={self.expires_at!r}, scopes={self.scopes!r})"


class Exchanger(t.Protocol):
    """Trades a user's token for one for ``audience``."""

    #: Names the upstream in cache keys and errors (its token endpoint).
    name: str

    def exchange(
        self, subject_token: str, audience: str, scopes: Sequence[str]
    ) -> Exchanged:
        """The downstream token; :class:`DownstreamError` if refused."""
        ...


class _TokenClient:
    """POSTs a grant to a token endpoint with client authentication."""

    #: What the call is called in errors and logs.
    call = "token endpoint"

    def __init__(
        self,
        token_endpoint: str | t.Callable[[], str | None],
        client_id: str,
        client_secret: str,
        *,
        auth_method: str = "client_secret_basic",
        timeout: float = 10.0,
        name: str | None = None,
        issuer: str | None = None,
    ) -> None:
        if auth_method not in ("client_secret_basic", "client_secret_post"):
            raise ValueError("auth_method must be client_secret_basic or _post")
        if isinstance(token_endpoint, str) and not token_endpoint.startswith(
            ("https://", "http://")
        ):
            raise ValueError(f"token_endpoint must be a URL, not {token_endpoint!r}")
        if not client_id or not client_secret:
            raise ValueError("a confidential client (id and secret) is needed")
        self._endpoint = token_endpoint
        self.client_id = client_id
        self.client_secret = client_secret
        self.auth_method = auth_method
        self.timeout = timeout
        self.name = name or str(token_endpoint)
        #: Whose tokens are traded here (``None``: any session's).
        self.issuer = issuer

    @property
    def token_endpoint(self) -> str:
        """The token endpoint (a provider's is discovered on first use).

        :raises DownstreamError: when a provider's cannot be found.
        """
        if isinstance(self._endpoint, str):
            return self._endpoint
        try:
            found = self._endpoint()
        except UpstreamError as error:
            raise DownstreamError(
                error.error, error.description, call=error.call
            ) from None
        if not found:
            raise DownstreamError("server_error", "no token endpoint", call=self.name)
        return found

    def post(self, form: dict[str, str]) -> Exchanged:
        endpoint = self.token_endpoint  # looked up once: it may be discovered
        what = f"{self.call} at {endpoint}"
        auth: tuple[str, str] | None = None
        if self.auth_method == "client_secret_basic":
            auth = (self.client_id, self.client_secret)
        else:
            form = {
                **form,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
        try:
            with calling("downstream", what, self.timeout):
                received = time.time()
                with bounded_session(TOKEN_ANSWER_BYTES) as session:
                    response = session.post(
                        endpoint,
                        data=form,
                        auth=auth,
                        headers={"Accept": "application/json"},
                        timeout=self.timeout,
                        allow_redirects=False,
                    )
                payload = read_token_response(response, what)
        except UpstreamError as error:
            raise DownstreamError(error.error, error.description, call=what) from None
        # The proxy's reading: an expiry that is no finite number is none.
        tokens = to_tokens(payload, received, (), split_scopes)
        return Exchanged(
            access_token=tokens.access_token,
            token_type=tokens.token_type,
            expires_at=tokens.expires_at,
            scopes=tokens.scopes,
        )


class TokenExchange(_TokenClient):
    """:rfc:`8693` token exchange at the upstream's token endpoint.

    :param token_endpoint: the upstream's token endpoint.
    :param client_id: this server's client at the upstream (allowed to
        exchange, for the audiences it will ask).
    :param client_secret: its secret.
    :param audience_parameter: ``"audience"`` (a logical name: Keycloak's
        client id, Okta's API audience) or ``"resource"`` (a URL,
        :rfc:`8707`).
    :param subject_token_type: the type of the tokens traded.
    :param auth_method: client authentication at the token endpoint.
    :param timeout: seconds the call may take, connecting to last byte.
    :param issuer: the upstream's issuer: a bearer session of another issuer
        is refused before any call (its token is never sent here).
    """

    call = "token exchange"

    def __init__(
        self,
        token_endpoint: str | t.Callable[[], str | None],
        client_id: str,
        client_secret: str,
        *,
        audience_parameter: str = "audience",
        subject_token_type: str = ACCESS_TOKEN_TYPE,
        auth_method: str = "client_secret_basic",
        timeout: float = 10.0,
        name: str | None = None,
        issuer: str | None = None,
    ) -> None:
        super().__init__(
            token_endpoint,
            client_id,
            client_secret,
            auth_method=auth_method,
            timeout=timeout,
            name=name,
            issuer=issuer,
        )
        if audience_parameter not in ("audience", "resource"):
            raise ValueError("audience_parameter must be 'audience' or 'resource'")
        self.audience_parameter = audience_parameter
        self.subject_token_type = subject_token_type

    @classmethod
    def for_provider(cls, provider: OAuthProvider, **options: t.Any) -> TokenExchange:
        """Exchange at ``provider``'s token endpoint, as its client (found
        through its discovery document on first use, not now), with its
        client authentication method, for sessions of its issuer only."""
        options.setdefault("auth_method", provider.token_endpoint_auth_method)
        options.setdefault("timeout", provider.timeout)
        issuer = getattr(provider, "issuer", None)
        options.setdefault("issuer", issuer)
        return cls(
            lambda: provider.endpoint("token_endpoint"),
            provider.client_id,
            provider.client_secret,
            name=options.pop("name", None) or issuer or provider.name,
            **options,
        )

    def exchange(
        self, subject_token: str, audience: str, scopes: Sequence[str]
    ) -> Exchanged:
        form = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": subject_token,
            "subject_token_type": self.subject_token_type,
            "requested_token_type": ACCESS_TOKEN_TYPE,
            self.audience_parameter: audience,
        }
        if scopes:
            form["scope"] = " ".join(scopes)
        return self.post(form)
