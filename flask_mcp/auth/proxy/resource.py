"""The MCP endpoint's side: a Bearer token of ours becomes the tool's session.

Only this server's access tokens for this MCP endpoint are accepted (no token
passthrough, MCP "Access Token Privilege Restriction"): signed by one of our
keys, ``typ`` ``at+jwt``, ``iss`` our issuer, ``aud`` this endpoint
(:rfc:`8707`), not expired, and their grant still alive. The session carries
the *upstream* tokens (refreshed if needed) for the tools to call the
provider's APIs.
"""

from __future__ import annotations

import logging
import typing as t

from authlib.oauth2.rfc6750.errors import InvalidTokenError

from ..errors import Unauthorized
from ..providers.base import OAuthSession
from ..providers.base import Provider
from ..providers.base import UpstreamError
from .storage import ProxyStorage
from .tokens import AccessTokenValidator
from .upstream import FATAL_ERRORS
from .upstream import UpstreamLeg
from .upstream import tokens_from_dict

__all__ = ["ResourceGuard"]

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
        end_grant: t.Callable[[str], None],
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
        record = self.storage.grant(grant_id)
        if (
            record is None
            or record["client_id"] != claims["client_id"]
            or record["subject"] != claims["sub"]
        ):
            raise Unauthorized("the access token was revoked", error="invalid_token")
        try:
            upstream = self.upstream.fresh(grant_id, record)
        except UpstreamError as error:
            log.info("upstream refresh of grant %s refused: %s", grant_id, error.error)
            if error.error in FATAL_ERRORS:
                self.end_grant(grant_id)
            raise Unauthorized(
                "the upstream authorization has expired", error="invalid_token"
            ) from None
        except Exception:  # provider unreachable: serve, tools see the expiry
            log.warning("upstream refresh of grant %s failed", grant_id, exc_info=True)
            upstream = self.storage.upstream(grant_id, record)
        scopes = frozenset(str(claims.get("scope") or "").split())
        return self.provider.session(
            tokens_from_dict(upstream["tokens"]),
            upstream["identity"],
            scopes=scopes,
            client_id=claims["client_id"],
        )
