"""Every record of the proxy, in the shared :class:`~flask_mcp.store.Store`.

Any gunicorn worker on any host may serve any step of a flow, so nothing
lives in process memory. Single-use values (authorization codes, upstream
``state``, refresh tokens) are consumed with :meth:`Store.take`: of racing
workers exactly one gets the record. The winner leaves a tombstone, so a
later replay is recognised and the grant it belongs to is ended
(:rfc:`6749#section-4.1.2`, :rfc:`9700#section-4.14.2`).

Codes, refresh tokens and client secrets are stored as SHA-256 digests;
upstream tokens (and the user's identity) are sealed with AES-GCM.
"""

from __future__ import annotations

import time
import typing as t

from flask_mcp.store import Store

from .models import AuthorizationCode
from .models import Client
from .models import IssuedToken
from .sealing import Sealer
from .sealing import digest

__all__ = ["ProxyStorage"]

#: Seconds an authorization code lives (:rfc:`6749#section-4.1.2`: "10 minutes
#: maximum is RECOMMENDED").
CODE_TTL = 300
#: Seconds a pending authorization (consent page, upstream leg) lives.
FLOW_TTL = 600
#: Seconds a registration lives without a login (~2 years; each login renews it).
CLIENT_TTL = 2 * 365 * 86400
#: Seconds a remembered consent lives.
CONSENT_TTL = 365 * 86400


class ProxyStorage:
    """Typed access to the proxy's records under ``store``'s ``oauth:`` prefix.

    :param refresh_ttl: lifetime of refresh tokens, and so of a grant.
    """

    def __init__(self, store: Store, sealer: Sealer, *, refresh_ttl: int) -> None:
        self.store = store.child("oauth:")
        self.sealer = sealer
        self.refresh_ttl = refresh_ttl

    # -- clients (RFC 7591) ------------------------------------------------

    def save_client(self, client: Client) -> None:
        self.store.set(f"client:{client.client_id}", client.to_dict(), CLIENT_TTL)

    def client(self, client_id: str) -> dict[str, t.Any] | None:
        if not isinstance(client_id, str) or not client_id:
            return None
        return t.cast("dict[str, t.Any] | None", self.store.get(f"client:{client_id}"))

    # -- pending authorizations ------------------------------------------

    def save_transaction(self, txn_id: str, data: dict[str, t.Any]) -> None:
        self.store.set(f"txn:{txn_id}", data, FLOW_TTL)

    def transaction(self, txn_id: str) -> dict[str, t.Any] | None:
        return t.cast("dict[str, t.Any] | None", self.store.get(f"txn:{txn_id}"))

    def take_transaction(self, txn_id: str) -> dict[str, t.Any] | None:
        return t.cast("dict[str, t.Any] | None", self.store.take(f"txn:{txn_id}"))

    def save_leg(self, state: str, data: dict[str, t.Any]) -> None:
        """The upstream leg of one login, keyed by its ``state``; sealed
        because it holds the upstream PKCE verifier."""
        key = digest(state)
        sealed = self.sealer.seal(data, context=f"leg:{key}")
        self.store.set(f"leg:{key}", sealed, FLOW_TTL)

    def take_leg(self, state: str) -> dict[str, t.Any] | None:
        key = digest(state)
        sealed = self.store.take(f"leg:{key}")
        if sealed is None:
            return None
        return t.cast(dict[str, t.Any], self.sealer.open(sealed, context=f"leg:{key}"))

    # -- authorization codes -----------------------------------------------

    def save_code(self, code: str, record: AuthorizationCode) -> None:
        self.store.set(f"code:{digest(code)}", record.to_dict(), CODE_TTL)

    def redeem_code(self, code: str) -> tuple[AuthorizationCode | None, str | None]:
        """Consume ``code``: ``(record, None)`` for the one caller that wins,
        ``(None, grant_id)`` for a replay of a redeemed code, else ``(None, None)``."""
        key = digest(code)
        data = self.store.take(f"code:{key}")
        if data is None:
            return None, self.store.get(f"code-used:{key}")
        self.store.set(f"code-used:{key}", data["grant_id"], self.refresh_ttl)
        return AuthorizationCode.from_dict(data), None

    # -- grants: one login of one user for one client, a token family -------

    def create_grant(
        self, grant_id: str, record: dict[str, t.Any], upstream: dict[str, t.Any]
    ) -> None:
        """A new grant, alive as long as its code until tokens are issued."""
        now = time.time()
        data = dict(record, created_at=int(now), expires_at=now + CODE_TTL)
        data["sealed"] = self.sealer.seal(upstream, context=f"grant:{grant_id}")
        self.store.set(f"grant:{grant_id}", data, CODE_TTL)

    def grant(self, grant_id: t.Any) -> dict[str, t.Any] | None:
        if not isinstance(grant_id, str) or not grant_id:
            return None
        data = self.store.get(f"grant:{grant_id}")
        if data is None or data["expires_at"] <= time.time():
            return None
        return t.cast(dict[str, t.Any], data)

    def upstream(self, grant_id: str, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """The unsealed upstream tokens and identity of a grant."""
        return t.cast(
            dict[str, t.Any],
            self.sealer.open(record["sealed"], context=f"grant:{grant_id}"),
        )

    def update_grant(
        self,
        grant_id: str,
        *,
        upstream: dict[str, t.Any] | None = None,
        extend: bool = False,
    ) -> dict[str, t.Any] | None:
        """Replace the upstream tokens and/or extend the grant to a full
        refresh-token lifetime; never brings an ended grant back."""
        with self.store.lock(f"grant:{grant_id}"):
            data = self.grant(grant_id)
            if data is None:
                return None
            if upstream is not None:
                data["sealed"] = self.sealer.seal(upstream, context=f"grant:{grant_id}")
            if extend:
                data["expires_at"] = time.time() + self.refresh_ttl
            self.store.set(f"grant:{grant_id}", data, data["expires_at"] - time.time())
            return data

    def end_grant(self, grant_id: str) -> dict[str, t.Any] | None:
        """Delete the grant: every access and refresh token of the family
        stops working. Returns the record for the one caller that ended it."""
        with self.store.lock(f"grant:{grant_id}"):
            return t.cast(
                "dict[str, t.Any] | None", self.store.take(f"grant:{grant_id}")
            )

    # -- refresh tokens ----------------------------------------------------

    def save_refresh(self, token: str, record: IssuedToken) -> None:
        self.store.set(f"refresh:{digest(token)}", record.to_dict(), self.refresh_ttl)

    def find_refresh(self, token: str) -> IssuedToken | None:
        """The record of a live refresh token, without consuming it."""
        data = self.store.get(f"refresh:{digest(token)}")
        return IssuedToken.from_dict(data) if data else None

    def refresh_reused(self, token: str) -> str | None:
        """The grant of a refresh token that was already rotated, if any."""
        return t.cast("str | None", self.store.get(f"refresh-used:{digest(token)}"))

    def rotate_refresh(self, token: str) -> tuple[IssuedToken | None, str | None]:
        """Consume a refresh token, as :meth:`redeem_code` does a code."""
        key = digest(token)
        data = self.store.take(f"refresh:{key}")
        if data is None:
            return None, self.refresh_reused(token)
        self.store.set(f"refresh-used:{key}", data["grant_id"], self.refresh_ttl)
        return IssuedToken.from_dict(data), None

    # -- remembered consent, per browser -----------------------------------

    def approvals(self, browser: str) -> dict[str, dict[str, t.Any]]:
        return t.cast(
            dict[str, dict[str, t.Any]], self.store.get(f"consent:{browser}") or {}
        )

    def remember(
        self, browser: str, client_id: str, approval: dict[str, t.Any]
    ) -> None:
        with self.store.lock(f"consent:{browser}"):
            approvals = self.approvals(browser)
            approvals[client_id] = approval
            self.store.set(f"consent:{browser}", approvals, CONSENT_TTL)

    def forget(self, browser: str, client_id: str) -> bool:
        with self.store.lock(f"consent:{browser}"):
            approvals = self.approvals(browser)
            if approvals.pop(client_id, None) is None:
                return False
            self.store.set(f"consent:{browser}", approvals, CONSENT_TTL)
            return True
