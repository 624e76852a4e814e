"""Every record of the proxy, in the shared :class:`~flask_mcp.store.Store`.

Any gunicorn worker on any host may serve any step of a flow, so nothing
lives in process memory. Single-use values (authorization codes, upstream
``state``, refresh tokens) are consumed with :meth:`Store.take`: of racing
workers exactly one gets the record. The winner leaves a tombstone, so a
later replay is recognised and the grant it belongs to is ended
(:rfc:`6749#section-4.1.2`, :rfc:`9700#section-4.14.2`).

Codes, refresh tokens and client secrets are stored as SHA-256 digests;
upstream tokens (and the user's identity) are sealed with AES-GCM. Records
are typed (:mod:`.records`); an entry that does not fit its record or does
not open is treated as missing, with a warning.
"""

from __future__ import annotations

import logging
import time
import typing as t

from flask_mcp.store import Store
from flask_mcp.store.key_index import KeyIndex

from ..hashing import digest
from .models import AuthorizationCode
from .models import Client
from .models import IssuedToken
from .records import LOGIN
from .records import Approval
from .records import BrowserSession
from .records import Grant
from .records import LoginLeg
from .records import PendingAuthorization
from .records import RecordError
from .records import Rotation
from .records import UpstreamGrant
from .records import approval_key
from .records import dump
from .records import load
from .revocations import Revocations
from .sealing import Sealer
from .sealing import SealError

log = logging.getLogger(__name__)

R = t.TypeVar("R")

#: Seconds an authorization code lives (:rfc:`6749#section-4.1.2`: "10 minutes
#: maximum is RECOMMENDED").
CODE_TTL = 300
#: Seconds a pending authorization (consent page, upstream leg) lives.
FLOW_TTL = 600
#: Seconds a registration lives after a login (~2 years; each login renews it).
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
        #: Users and clients cut off by an operator (``flask mcp tokens``).
        self.revocations = Revocations(self.store, refresh_ttl)
        #: Registered clients and browsers with approvals, for the operator
        #: commands (``flask mcp clients``, ``flask mcp consents``).
        self.clients = KeyIndex(self.store, "client", CLIENT_TTL)
        self.browsers = KeyIndex(self.store, "browser", CONSENT_TTL)

    def _load(self, cls: type[R], key: str, data: t.Any) -> R | None:
        if data is None:
            return None
        try:
            return load(cls, data)
        except RecordError as error:
            log.warning("ignoring the unreadable store entry %s: %s", key, error)
            return None

    def _open(self, cls: type[R], key: str, sealed: t.Any) -> R | None:
        if sealed is None:
            return None
        try:
            data = self.sealer.open(sealed, context=key)
        except SealError:
            log.warning("ignoring the store entry %s: it does not open", key)
            return None
        return self._load(cls, key, data)

    # -- clients (RFC 7591) ------------------------------------------------

    def save_client(self, client: Client, ttl: float = CLIENT_TTL) -> None:
        """Save (or renew) a registration for ``ttl`` seconds."""
        self.store.set(f"client:{client.client_id}", dump(client), ttl)
        self.clients.add(client.client_id)

    def client(self, client_id: t.Any) -> Client | None:
        if not isinstance(client_id, str) or not client_id:
            return None
        key = f"client:{client_id}"
        return self._load(Client, key, self.store.get(key))

    # -- pending authorizations ------------------------------------------

    def save_transaction(self, txn_id: str, pending: PendingAuthorization) -> None:
        self.store.set(f"txn:{txn_id}", dump(pending), FLOW_TTL)

    def transaction(self, txn_id: str) -> PendingAuthorization | None:
        key = f"txn:{txn_id}"
        return self._load(PendingAuthorization, key, self.store.get(key))

    def take_transaction(self, txn_id: str) -> PendingAuthorization | None:
        key = f"txn:{txn_id}"
        return self._load(PendingAuthorization, key, self.store.take(key))

    def save_leg(self, state: str, leg: LoginLeg) -> None:
        """The upstream leg of one login, keyed by its ``state``; sealed
        because it holds the upstream PKCE verifier."""
        key = f"leg:{digest(state)}"
        self.store.set(key, self.sealer.seal(dump(leg), context=key), FLOW_TTL)

    def take_leg(self, state: str) -> LoginLeg | None:
        key = f"leg:{digest(state)}"
        return self._open(LoginLeg, key, self.store.take(key))

    # -- authorization codes -----------------------------------------------

    def save_code(self, code: str, record: AuthorizationCode) -> None:
        self.store.set(f"code:{digest(code)}", dump(record), CODE_TTL)

    def redeem_code(self, code: str) -> tuple[AuthorizationCode | None, str | None]:
        """Consume ``code``: ``(record, None)`` for the one caller that wins,
        ``(None, grant_id)`` for a replay of a redeemed code, else ``(None, None)``."""
        key = f"code:{digest(code)}"
        record = self._load(AuthorizationCode, key, self.store.take(key))
        if record is None:
            return None, self.store.get(f"code-used:{digest(code)}")
        self.store.set(f"code-used:{digest(code)}", record.grant_id, self.refresh_ttl)
        return record, None

    # -- grants: one login of one user for one client, a token family -------

    def create_grant(
        self,
        grant_id: str,
        client_id: str,
        subject: str,
        upstream: UpstreamGrant,
        *,
        kind: str = LOGIN,
        ttl: float = CODE_TTL,
    ) -> None:
        """A new grant, alive ``ttl`` seconds until tokens are issued (a
        login's code lives that long)."""
        now = time.time()
        grant = Grant(
            client_id=client_id,
            subject=subject,
            created_at=int(now),
            expires_at=now + ttl,
            sealed=self._seal_upstream(grant_id, upstream),
            kind=kind,
        )
        self.store.set(f"grant:{grant_id}", dump(grant), ttl)
        self.grants_of("subject", subject).add(grant_id)
        self.grants_of("client", client_id).add(grant_id)

    def grants_of(self, kind: str, name: str) -> KeyIndex:
        """The grants of one subject or client (``kind``), for the operator."""
        return KeyIndex(self.store, f"grants:{kind}:{digest(name)}", self.refresh_ttl)

    def grant(self, grant_id: t.Any) -> Grant | None:
        if not isinstance(grant_id, str) or not grant_id:
            return None
        key = f"grant:{grant_id}"
        grant = self._load(Grant, key, self.store.get(key))
        if grant is None or grant.expires_at <= time.time():
            return None
        if self.revocations.ends(grant):
            return None
        return grant

    def upstream(self, grant_id: str, grant: Grant) -> UpstreamGrant:
        """The unsealed upstream tokens and identity of a grant.

        :raises SealError: when the grant's seal does not open (another
            encryption key, a damaged entry).
        """
        data = self.sealer.open(grant.sealed, context=f"grant:{grant_id}")
        try:
            return load(UpstreamGrant, data)
        except RecordError as error:
            raise SealError(str(error)) from None

    def _seal_upstream(self, grant_id: str, upstream: UpstreamGrant) -> str:
        return self.sealer.seal(dump(upstream), context=f"grant:{grant_id}")

    def update_grant(
        self,
        grant_id: str,
        *,
        upstream: UpstreamGrant | None = None,
        extend: bool = False,
        lifetime: float | None = None,
    ) -> Grant | None:
        """Replace the upstream tokens and/or extend the grant to a full
        refresh-token lifetime (``extend``) or to ``lifetime`` seconds from
        now (a grant without refresh token lives as long as its access
        token); never brings an ended grant back."""
        with self.store.lock(f"grant:{grant_id}"):
            grant = self.grant(grant_id)
            if grant is None:
                return None
            if upstream is not None:
                grant.sealed = self._seal_upstream(grant_id, upstream)
            if extend:
                grant.expires_at = time.time() + self.refresh_ttl
            elif lifetime is not None:
                grant.expires_at = time.time() + lifetime
            self.store.set(
                f"grant:{grant_id}", dump(grant), grant.expires_at - time.time()
            )
            return grant

    def end_grant(self, grant_id: str) -> Grant | None:
        """Delete the grant: every access and refresh token of the family
        stops working. Returns the record for the one caller that ended it."""
        key = f"grant:{grant_id}"
        with self.store.lock(key):
            return self._load(Grant, key, self.store.take(key))

    # -- refresh tokens ----------------------------------------------------

    def save_refresh(self, token: str, record: IssuedToken) -> None:
        self.store.set(f"refresh:{digest(token)}", dump(record), self.refresh_ttl)

    def find_refresh(self, token: str) -> IssuedToken | None:
        """The record of a live refresh token, without consuming it."""
        key = f"refresh:{digest(token)}"
        return self._load(IssuedToken, key, self.store.get(key))

    def refresh_reused(self, token: str) -> str | None:
        """The grant of a refresh token that was already rotated, if any."""
        used = self.store.get(f"refresh-used:{digest(token)}")
        return used if isinstance(used, str) else None

    def rotate_refresh(self, token: str) -> tuple[IssuedToken | None, str | None]:
        """Consume a refresh token, as :meth:`redeem_code` does a code."""
        key = f"refresh:{digest(token)}"
        record = self._load(IssuedToken, key, self.store.take(key))
        if record is None:
            return None, self.refresh_reused(token)
        self.store.set(
            f"refresh-used:{digest(token)}", record.grant_id, self.refresh_ttl
        )
        return record, None

    def remember_rotation(self, token: str, rotation: Rotation, ttl: float) -> None:
        """Keep the answer to the refresh of ``token`` for ``ttl`` seconds,
        sealed: it holds a new access and refresh token."""
        key = f"refresh-grace:{digest(token)}"
        self.store.set(key, self.sealer.seal(dump(rotation), context=key), ttl)

    def rotation(self, token: str) -> Rotation | None:
        """The answer to the refresh of ``token``, within its grace period."""
        key = f"refresh-grace:{digest(token)}"
        return self._open(Rotation, key, self.store.get(key))

    # -- what one browser approved -----------------------------------------

    def browser(self, browser: str) -> BrowserSession:
        key = f"consent:{browser}"
        return self._load(BrowserSession, key, self.store.get(key)) or BrowserSession()

    def remember(self, browser: str, approval: Approval) -> None:
        """Keep ``approval`` (of its client, for its endpoint)."""
        key = approval_key(approval.client_id, approval.resource)
        with self.store.lock(f"consent:{browser}"):
            session = self.browser(browser)
            session.approvals[key] = approval
            self.store.set(f"consent:{browser}", dump(session), CONSENT_TTL)
        self.browsers.add(browser)

    def forget(self, browser: str, client_id: str, resource: str | None) -> bool:
        """Drop the approval of ``client_id`` for ``resource`` (``None``:
        for every endpoint); whether there was one."""
        with self.store.lock(f"consent:{browser}"):
            session = self.browser(browser)
            keys = [
                key
                for key, approval in session.approvals.items()
                if key == approval_key(client_id, resource or "")
                or (resource is None and approval.client_id == client_id)
            ]
            if not keys:
                return False
            for key in keys:
                del session.approvals[key]
            self.store.set(f"consent:{browser}", dump(session), CONSENT_TTL)
            return True

    def delete_client(self, client_id: str) -> None:
        """Forget a registration (the client must register again)."""
        self.store.delete(f"client:{client_id}")
