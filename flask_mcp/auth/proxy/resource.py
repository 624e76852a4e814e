"""The MCP endpoint's side: a Bearer token of ours becomes the tool's session.

Only this server's access tokens for this MCP endpoint are accepted (no token
passthrough, MCP "Access Token Privilege Restriction"): signed by one of our
keys, ``typ`` ``at+jwt``, ``iss`` our issuer, ``aud`` this endpoint
(:rfc:`8707`), not expired, and their grant still alive. The session carries
the *upstream* tokens (refreshed if needed) for the tools to call the
provider's APIs; a grant that never went upstream (an enterprise assertion, a
machine client) gets its own session (:mod:`.grant_sessions`).
"""

from __future__ import annotations

import logging
import typing as t

from authlib.oauth2.rfc6750.errors import InvalidTokenError

from ..errors import Unauthorized
from ..providers.provider import OAuthSession
from ..providers.provider import Provider
from ..providers.provider import UpstreamError
from .grant_sessions import EnterpriseSession
from .grant_sessions import MachineSession
from .records import ASSERTION
from .records import CLIENT
from .sealing import SealError
from .storage import ProxyStorage
from .tokens import AccessTokenValidator
from .upstream import FATAL_ERRORS
from .upstream import UpstreamLeg

log = logging.getLogger(__name__)


class ResourceGuard:
    """Turns an access token into the provider's :class:`OAuthSession`.

    :param end_grant: ends a grant whose upstream grant is gone.
    """

    def __init__(
        self,
        *,
        provider: Provider,
        validator: AccessTokenValidator,
        storage: ProxyStorage,
        upstream: UpstreamLeg,
        end_grant: t.Callable[..., object],
    ) -> None:
        self.provider = provider
        self.validator = validator
        self.storage = storage
        self.upstream = upstream
        self.end_grant = end_grant

    def session(self, token: str) -> OAuthSession:
        """The session of a valid token.

        :raises Unauthorized: ``invalid_token`` for any other token.
        """
        try:
            claims = self.validator.verify(token)
        except InvalidTokenError as error:
            raise Unauthorized(error.description, error="invalid_token") from None
        grant_id = claims["sid"]
        grant = self.storage.grant(grant_id)
        if (
            grant is None
            or grant.client_id != claims["client_id"]
            or grant.subject != claims["sub"]
        ):
            raise Unauthorized("the access token was revoked", error="invalid_token")
        try:
            upstream = self.upstream.fresh(grant_id, grant)
        except SealError:
            log.warning("grant %s: its upstream tokens do not open", grant_id)
            raise Unauthorized(
                "the access token was revoked", error="invalid_token"
            ) from None
        except UpstreamError as error:
            log.info(
                "upstream refresh of grant %s refused at the %s: %s",
                grant_id,
                error.call or "provider",
                error.error,
            )
            if error.error in FATAL_ERRORS:
                self.end_grant(grant_id)
            raise Unauthorized(
                "the upstream authorization has expired", error="invalid_token"
            ) from None
        scopes = frozenset(str(claims.get("scope") or "").split())
        if upstream.tokens is None:  # an assertion's or a machine's grant
            kind = _SESSIONS.get(grant.kind)
            if kind is None:
                raise Unauthorized(
                    "the access token was revoked", error="invalid_token"
                )
            return kind.from_identity(
                upstream.identity, scopes=scopes, client_id=claims["client_id"]
            )
        return self.provider.session(
            upstream.tokens,
            upstream.identity,
            scopes=scopes,
            client_id=claims["client_id"],
        )


_SESSIONS: dict[str, type[EnterpriseSession] | type[MachineSession]] = {
    ASSERTION: EnterpriseSession,
    CLIENT: MachineSession,
}
