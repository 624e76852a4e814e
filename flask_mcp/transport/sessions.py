"""MCP sessions kept in the shared store, so any worker can serve any request.

A session id is an unguessable handle, never a credential: the transport
still authenticates every request and checks the principal it was bound to.
"""

from __future__ import annotations

import secrets
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

from ..store import Store
from ..store.key_index import KeyIndex


@dataclass
class Session:
    """One client's MCP session; implements the protocol's ``SessionState``."""

    id: str
    protocol_version: str
    client_capabilities: dict[str, t.Any] = field(default_factory=dict)
    client_info: dict[str, t.Any] = field(default_factory=dict)
    principal: str | None = None
    log_level: str | None = None
    subscriptions: set[str] = field(default_factory=set)
    touched: float = field(default_factory=time.time)
    manager: SessionManager | None = field(default=None, repr=False, compare=False)

    def record(self) -> dict[str, t.Any]:
        return {
            "v": self.protocol_version,
            "caps": self.client_capabilities,
            "client": self.client_info,
            "principal": self.principal,
            "level": self.log_level,
            "subs": sorted(self.subscriptions),
            "touched": self.touched,
        }

    def set_log_level(self, level: str) -> None:
        self.log_level = level
        self._save()

    def subscribe(self, uri: str) -> None:
        self.subscriptions.add(uri)
        self._save()
        self._manager.subscriptions_changed(self)

    def unsubscribe(self, uri: str) -> None:
        self.subscriptions.discard(uri)
        self._save()
        self._manager.subscriptions_changed(self)

    @property
    def _manager(self) -> SessionManager:
        assert self.manager is not None
        return self.manager

    def _save(self) -> None:
        self._manager.save(self)


class SessionManager:
    """Creates, loads and ends sessions in a :class:`~flask_mcp.store.Store`."""

    def __init__(self, store: Store, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        #: The ids of live sessions, for ``flask mcp sessions``.
        self.index = KeyIndex(store, "session", ttl)
        #: Called when a session's subscriptions change (its GET stream,
        #: held somewhere, must follow other resources from now on).
        self.on_subscriptions: t.Callable[[Session], None] | None = None
        #: Called after a session ended (``DELETE``): streams held for it
        #: elsewhere (a stream gateway) must close now.
        self.on_end: list[t.Callable[[Session], None]] = []

    def subscriptions_changed(self, session: Session) -> None:
        if self.on_subscriptions is not None:
            self.on_subscriptions(session)

    def create(
        self,
        protocol_version: str,
        params: dict[str, t.Any],
        principal: str | None = None,
    ) -> Session:
        caps = params.get("capabilities")
        info = params.get("clientInfo")
        session = Session(
            id=secrets.token_urlsafe(24),
            protocol_version=protocol_version,
            client_capabilities=caps if isinstance(caps, dict) else {},
            client_info=info if isinstance(info, dict) else {},
            principal=principal,
            manager=self,
        )
        self.save(session, new=True)
        return session

    def load(self, session_id: str, *, touch: bool = True) -> Session | None:
        """The session, its expiry slid forward unless ``touch`` is false
        (an operator looking at it is not the client using it)."""
        record = self.store.get(f"session:{session_id}")
        if record is None:
            return None
        try:
            session = Session(
                id=session_id,
                protocol_version=str(record["v"]),
                client_capabilities=dict(record["caps"]),
                client_info=dict(record["client"]),
                principal=record["principal"],
                log_level=record["level"],
                subscriptions=set(record["subs"]),
                touched=float(record["touched"]),
                manager=self,
            )
        except (KeyError, TypeError, ValueError):
            return None  # an entry this code did not write: as good as missing
        if touch and time.time() - session.touched > self.ttl / 4:
            self.save(session)  # slide the expiry without a write per request
        return session

    def save(self, session: Session, *, new: bool = False) -> None:
        session.touched = time.time()
        self.store.set(f"session:{session.id}", session.record(), self.ttl)
        self.index.add(session.id, new=new)

    def end(self, session: Session) -> None:
        self.store.delete(f"session:{session.id}")
        for hook in self.on_end:
            hook(session)
