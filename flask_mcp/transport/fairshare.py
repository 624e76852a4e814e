"""Fair share of held streams: caps per principal and per client address.

One client must not take the server by opening stream after stream. Each
held stream takes a *slot* of its principal (when authenticated) and of its
client address (:func:`~flask_mcp.addresses.client_key`: IPv6 by /64); past
either cap the request gets :func:`~.responses.too_many_requests`.

Slots live in the shared store, so the caps hold across workers and hosts:
slot ``i`` of a key is an entry added atomically (``Store.add``) with a
short lifetime, renewed by its worker while the stream is held and deleted
when it ends. A worker that dies stops renewing, and its slots lapse within
:attr:`FairShare.lease_ttl`: counts never leak.

A stream held elsewhere (at a stream gateway, which never tells the server
that a client left) takes its slots with a ``lease`` of its own: the holder
renews them (:meth:`FairShare.renew`) each time it hears of the stream and
frees them at its end (:meth:`FairShare.free`); a client that left
silently gives its slots back when the lease runs out.
"""

from __future__ import annotations

import logging
import secrets
import threading
import typing as t
from collections.abc import Sequence

from ..store import Store
from ..store import StoreError
from ..store.counted import slot_prefix
from ..store.counted import take_slot
from .responses import too_many_requests

log = logging.getLogger(__name__)

#: Renewals a slot may miss before it lapses.
_LAPSE = 3


class Ticket:
    """The slots one held stream took; :meth:`release` gives them back."""

    def __init__(self, share: FairShare, keys: list[str], token: str) -> None:
        self._share = share
        self.keys = keys
        self.token = token
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._share.release(self)


class FairShare:
    """Caps on held streams, counted in the store.

    :param per_principal: streams one authenticated principal may hold
        (``0``: no cap).
    :param per_address: streams one client address may hold (``0``: no cap).
    :param renew_every: seconds between renewals of the slots held here.
    """

    def __init__(
        self,
        store: Store,
        per_principal: int,
        per_address: int,
        renew_every: float,
    ) -> None:
        self.store = store
        self.caps = {"principal": per_principal, "address": per_address}
        self.renew_every = renew_every
        self.lease_ttl = renew_every * _LAPSE
        self._tickets: set[Ticket] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def admit(
        self,
        principal: str | None,
        client: str | None,
        request_id: t.Any = None,
        *,
        lease: float | None = None,
    ) -> Ticket:
        """Take a slot of the principal and of the address.

        :param lease: for a stream held elsewhere: the slots' lifetime in
            seconds; they are not renewed by this process (see the module
            docstring).
        :raises HTTPError: 429 when either is full.
        :raises StoreUnavailable: the store cannot count.
        """
        ttl = self.lease_ttl if lease is None else lease
        token = secrets.token_urlsafe(9)
        wanted = []
        if principal is not None and self.caps["principal"]:
            wanted.append(("principal", principal))
        if client is not None and self.caps["address"]:
            wanted.append(("address", client))
        keys: list[str] = []
        try:
            for scope, value in wanted:
                key = take_slot(
                    self.store,
                    slot_prefix(f"holds:{scope}", value),
                    self.caps[scope],
                    token,
                    ttl,
                )
                if key is None:
                    raise too_many_requests(
                        self.renew_every,
                        f"this {scope} holds {self.caps[scope]} streams already",
                        request_id,
                    )
                keys.append(key)
        except BaseException:
            self._delete(keys, token)
            raise
        ticket = Ticket(self, keys, token)
        if keys and lease is None:
            with self._lock:
                self._tickets.add(ticket)
                self._start()
        return ticket

    def release(self, ticket: Ticket) -> None:
        with self._lock:
            self._tickets.discard(ticket)
        self._delete(ticket.keys, ticket.token)

    def renew(self, keys: Sequence[str], token: str, lease: float) -> None:
        """Extend the slots ``keys`` taken under ``token`` with a ``lease``
        (:meth:`admit`) by ``lease`` seconds; one that lapsed meanwhile is
        taken again if it is still free.

        :raises StoreUnavailable: the store cannot count.
        """
        for key in keys:
            held = self.store.get(key)
            if held == token:
                self.store.set(key, token, lease)
            elif held is None:
                self.store.add(key, token, lease)

    def free(self, keys: Sequence[str], token: str) -> None:
        """Give back the slots ``keys`` taken under ``token`` with a lease."""
        self._delete(keys, token)

    def _delete(self, keys: Sequence[str], token: str) -> None:
        for key in keys:
            try:
                # A lapsed slot may be someone else's now: delete only ours.
                if self.store.get(key) == token:
                    self.store.delete(key)
            except StoreError as exc:  # it lapses by itself
                log.debug("slot %s not released: %s", key, exc)

    # -- renewal ----------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._renew, name="flask_mcp fair share", daemon=True
            )
            self._thread.start()

    def _renew(self) -> None:
        while True:
            self._wake.wait(self.renew_every)
            with self._lock:
                tickets = list(self._tickets)
                if not tickets:
                    self._thread = None
                    return
            for ticket in tickets:
                for key in ticket.keys:
                    try:
                        self.store.set(key, ticket.token, self.lease_ttl)
                    except StoreError as exc:
                        log.debug("slot %s not renewed: %s", key, exc)
