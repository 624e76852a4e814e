"""Microsoft Entra ID's on-behalf-of flow: a token Entra issued for this
server's API traded for one for a downstream API (an
:class:`~flask_mcp.auth.exchange.Exchanger`)."""

from __future__ import annotations

from collections.abc import Sequence

from .exchange import Exchanged
from .exchange import _TokenClient

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Microsoft's global authority.
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"


class OnBehalfOf(_TokenClient):
    """Microsoft Entra ID's on-behalf-of flow: the JWT bearer grant with
    ``requested_token_use=on_behalf_of``. The user's token must have been
    issued for *this* server's API (its ``aud`` is this app's client id or
    App ID URI, as a token of ``bearer_auth`` is); Entra then issues one for
    the downstream API the scopes name.

    :param tenant: the tenant id or domain.
    :param client_id: this server's app registration.
    :param client_secret: its secret.
    :param authority: the cloud's login host (national clouds, tests).
    :param timeout: seconds the call may take, connecting to last byte.
    :param issuer: the ``iss`` of the tokens traded (``.../{tenant}/v2.0``,
        or ``https://sts.windows.net/{tenant}/`` for v1 tokens): a bearer
        session of another issuer is refused before any call.
    """

    call = "on-behalf-of"

    def __init__(
        self,
        tenant: str,
        client_id: str,
        client_secret: str,
        *,
        authority: str = MICROSOFT_AUTHORITY,
        auth_method: str = "client_secret_post",
        timeout: float = 10.0,
        issuer: str | None = None,
    ) -> None:
        if not tenant or "/" in tenant:
            raise ValueError("tenant must be a tenant id or domain")
        endpoint = f"{authority.rstrip('/')}/{tenant}/oauth2/v2.0/token"
        super().__init__(
            endpoint,
            client_id,
            client_secret,
            auth_method=auth_method,
            timeout=timeout,
            issuer=issuer,
        )

    def exchange(
        self, subject_token: str, audience: str, scopes: Sequence[str]
    ) -> Exchanged:
        """``audience`` is the downstream API (``api://orders``); ``scopes``
        its scopes (``orders.read``), ``.default`` when none are given."""
        base = audience.rstrip("/")
        names = [f"{base}/{scope}" for scope in scopes] or [f"{base}/.default"]
        form = {
            "grant_type": JWT_BEARER,
            "requested_token_use": "on_behalf_of",
            "assertion": subject_token,
            "scope": " ".join(names),
        }
        return self.post(form)
