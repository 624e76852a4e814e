"""The proxy's security events, each reported from one function here.

Every sign-in, token issued (refreshes included), grant ended (revocation,
reuse of a refresh token, replay of a code) and refusal of the token,
revocation and registration endpoints goes through this module, so an audit
trail has one place to hook into. Today each is a log line of this module's
logger (``flask_mcp.auth.proxy.audit``); none carries a token or a secret.
"""

from __future__ import annotations

import logging

from authlib.oauth2.rfc6749 import OAuth2Error

__all__ = ["grant_ended", "refused", "signed_in", "token_issued"]

log = logging.getLogger(__name__)


def signed_in(*, client_id: str, subject: str, grant_id: str, provider: str) -> None:
    """A user signed in at the upstream provider for ``client_id``."""
    log.info(
        "sign-in: %s at %s for client %s (grant %s)",
        subject,
        provider,
        client_id,
        grant_id,
    )


def token_issued(
    *,
    grant_type: str,
    client_id: str,
    subject: str,
    grant_id: str,
    resource: str,
    scope: str,
) -> None:
    """Tokens were issued: ``grant_type`` says how (``refresh_token`` for a
    refresh, the JWT bearer grant for an enterprise assertion...)."""
    log.info(
        "token issued: %s for %s to client %s, grant %s, resource %s, scope %r",
        grant_type,
        subject,
        client_id,
        grant_id,
        resource,
        scope,
    )


def grant_ended(grant_id: str, reason: str) -> None:
    """A grant (token family) ended: ``revoked``, ``refresh token reused``,
    ``code replayed``..."""
    log.info("grant %s ended: %s", grant_id, reason)


def refused(endpoint: str, error: OAuth2Error) -> None:
    """An OAuth endpoint answered with ``error``."""
    log.info(
        "%s endpoint refused: %s (%s)", endpoint, error.error, error.description or ""
    )
