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
import typing as t

from ..providers.base import Provider
from ..providers.base import UpstreamError
from ..providers.base import UpstreamTokens
from .storage import ProxyStorage

__all__ = ["UpstreamLeg", "tokens_from_dict", "tokens_to_dict"]

log = logging.getLogger(__name__)

#: Upstream tokens this close to expiry (seconds) are refreshed before use.
REFRESH_MARGIN = 60
#: Upstream errors meaning the upstream grant is gone for good.
FATAL_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


def tokens_to_dict(tokens: UpstreamTokens) -> dict[str, t.Any]:
    data = dataclasses.asdict(tokens)
    data["scopes"] = list(tokens.scopes)
    data["raw"] = dict(tokens.raw)
    return data


def tokens_from_dict(data: t.Mapping[str, t.Any]) -> UpstreamTokens:
    return UpstreamTokens(**{**data, "scopes": tuple(data.get("scopes") or ())})


class UpstreamLeg:
    """Starts logins at the provider and keeps upstream tokens fresh."""

    def __init__(self, provider: Provider, storage: ProxyStorage) -> None:
        self.provider = provider
        self.storage = storage

    def start(self, pending: dict[str, t.Any]) -> str:
        """Save the pending authorization under a fresh ``state`` and return
        the provider's authorization URL."""
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters, RFC 7636 4.1
        self.storage.save_leg(state, {"pending": pending, "verifier": verifier})
        return self.provider.authorization_url(state=state, code_verifier=verifier)

    def login(
        self, code: str, verifier: str
    ) -> tuple[UpstreamTokens, dict[str, t.Any]]:
        """Redeem the upstream code server-side; who logged in.

        :raises UpstreamError: when the provider refuses.
        """
        tokens = self.provider.exchange_code(code=code, code_verifier=verifier)
        identity = dict(self.provider.identity(tokens))
        if not isinstance(identity.get("sub"), (str, int)) or identity["sub"] == "":
            raise UpstreamError("server_error", "the provider named no subject")
        identity["sub"] = str(identity["sub"])
        return tokens, identity

    def fresh(self, grant_id: str, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """The grant's upstream tokens and identity, refreshed upstream first
        if they are about to expire. One worker refreshes; the others wait
        for it on the grant's lock and then read its result.

        :raises UpstreamError: when the provider refuses the refresh.
        """
        upstream = self.storage.upstream(grant_id, record)
        if not _expiring(upstream["tokens"]):
            return upstream
        with self.storage.store.lock(f"upstream-refresh:{grant_id}", timeout=30):
            record = self.storage.grant(grant_id) or record
            upstream = self.storage.upstream(grant_id, record)
            tokens = upstream["tokens"]
            if not _expiring(tokens) or not tokens.get("refresh_token"):
                return upstream
            log.info("refreshing the upstream tokens of grant %s", grant_id)
            new = self.provider.refresh(tokens["refresh_token"])
            if new.refresh_token is None:  # providers that do not rotate
                new = dataclasses.replace(new, refresh_token=tokens["refresh_token"])
            upstream = dict(upstream, tokens=tokens_to_dict(new))
            self.storage.update_grant(grant_id, upstream=upstream)
            return upstream

    def end_grant(self, grant_id: str) -> None:
        """End a grant (every token of the family stops working) and revoke
        its upstream tokens."""
        record = self.storage.end_grant(grant_id)
        if record is not None:
            log.info("grant %s ended", grant_id)
            self.revoke(record, grant_id)

    def revoke(self, record: dict[str, t.Any], grant_id: str) -> None:
        """Revoke a grant's upstream tokens; best effort, errors are logged."""
        try:
            upstream = self.storage.upstream(grant_id, record)
            self.provider.revoke(tokens_from_dict(upstream["tokens"]))
        except Exception:  # the local grant is gone either way
            log.warning(
                "revoking the upstream tokens of grant %s failed",
                grant_id,
                exc_info=True,
            )


def _expiring(tokens: t.Mapping[str, t.Any]) -> bool:
    expires_at = tokens.get("expires_at")
    return expires_at is not None and expires_at - REFRESH_MARGIN <= time.time()
