"""The proxy as a client of the upstream provider.

The upstream leg has its own ``state`` and PKCE verifier (:rfc:`7636`),
unrelated to the MCP client's: the client's values never reach the provider
and the provider's code never reaches the client. Upstream tokens are kept
sealed in the grant, refreshed when they expire and revoked with the grant.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time

from ... import signals
from ..providers.provider import Provider
from ..providers.provider import UpstreamError
from ..providers.provider import UpstreamTokens
from .announce import announce
from .records import Grant
from .records import LoginLeg
from .records import PendingAuthorization
from .records import UpstreamGrant
from .sealing import SealError
from .storage import ProxyStorage

log = logging.getLogger(__name__)

#: Upstream tokens this close to expiry (seconds) are refreshed before use.
REFRESH_MARGIN = 60
#: Upstream errors meaning the upstream grant is gone for good.
FATAL_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


class UpstreamLeg:
    """Starts logins at the provider and keeps upstream tokens fresh."""

    def __init__(self, provider: Provider, storage: ProxyStorage) -> None:
        self.provider = provider
        self.storage = storage

    def start(self, pending: PendingAuthorization) -> str:
        """Save the pending authorization under a fresh ``state`` and return
        the provider's authorization URL.

        :raises UpstreamError: when the provider's endpoints cannot be found
            (an OpenID Connect issuer whose discovery document is unreachable).
        """
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters, RFC 7636 4.1
        url = self.provider.authorization_url(state=state, code_verifier=verifier)
        self.storage.save_leg(state, LoginLeg(pending, verifier))
        return url

    def login(self, code: str, verifier: str) -> UpstreamGrant:
        """Redeem the upstream code server-side; who logged in.

        :raises UpstreamError: when the provider refuses.
        """
        tokens = self.provider.exchange_code(code=code, code_verifier=verifier)
        identity = dict(self.provider.identity(tokens))
        if not isinstance(identity.get("sub"), (str, int)) or identity["sub"] == "":
            raise UpstreamError("server_error", "the provider named no subject")
        identity["sub"] = str(identity["sub"])
        return UpstreamGrant(tokens, identity)

    def fresh(self, grant_id: str, grant: Grant) -> UpstreamGrant:
        """The grant's upstream tokens and identity, refreshed upstream first
        if they are about to expire. One worker refreshes; the others wait
        for it on the grant's lock and then read its result.

        :raises UpstreamError: when the provider refuses the refresh.
        """
        upstream = self.storage.upstream(grant_id, grant)
        if upstream.tokens is None or not _expiring(upstream.tokens):
            return upstream
        with self.storage.store.lock(f"upstream-refresh:{grant_id}", timeout=30):
            grant = self.storage.grant(grant_id) or grant
            upstream = self.storage.upstream(grant_id, grant)
            tokens = upstream.tokens
            if tokens is None or not _expiring(tokens) or not tokens.refresh_token:
                return upstream
            log.info("refreshing the upstream tokens of grant %s", grant_id)
            new = self.provider.refresh(tokens.refresh_token)
            if new.refresh_token is None:  # providers that do not rotate
                new = dataclasses.replace(new, refresh_token=tokens.refresh_token)
            upstream = dataclasses.replace(upstream, tokens=new)
            self.storage.update_grant(grant_id, upstream=upstream)
            return upstream

    def end_grant(self, grant_id: str, reason: str = "invalidated") -> bool:
        """End a grant (every token of the family stops working) and revoke
        its upstream tokens.

        :param reason: for :data:`~flask_mcp.signals.token_revoked`:
            ``client`` (a revocation request), ``operator``, or
            ``invalidated`` (a replayed code or refresh token, a leaked one,
            an upstream grant that is gone).
        :returns: whether there was a grant to end.
        """
        grant = self.storage.end_grant(grant_id)
        if grant is None:
            return False
        log.info("grant %s ended (%s)", grant_id, reason)
        announce(
            signals.token_revoked,
            subject=grant.subject,
            client_id=grant.client_id,
            grant_id=grant_id,
            reason=reason,
            provider=self.provider.name,
        )
        self.revoke(grant, grant_id)
        return True

    def revoke(self, grant: Grant, grant_id: str) -> None:
        """Revoke a grant's upstream tokens; best effort, failures are logged
        (the local grant is gone either way)."""
        try:
            upstream = self.storage.upstream(grant_id, grant)
        except SealError:
            log.warning("grant %s: its upstream tokens do not open", grant_id)
            return
        if upstream.tokens is None:  # the grant never went upstream
            return
        try:
            self.provider.revoke(upstream.tokens)
        except UpstreamError as error:
            log.warning(
                "grant %s: revoking its upstream tokens failed at the %s: %s",
                grant_id,
                error.call or "provider",
                error.error,
            )


def _expiring(tokens: UpstreamTokens) -> bool:
    expires_at = tokens.expires_at
    return expires_at is not None and expires_at - REFRESH_MARGIN <= time.time()
