"""Proof in the store that a worker is still at work on something.

A worker that runs a request of a 2025 session renews a :class:`Lease` while
the handler runs; a client resuming the request's stream on another worker
reads it to learn whether anyone will still answer. Leases lapse a few
renewal intervals after the worker dies, so nothing waits on a dead process.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t

from ..protocol.jsonrpc import RequestId
from ..store import Store

log = logging.getLogger(__name__)

#: Renewals a lease may miss before it counts as lapsed.
MISSED_RENEWALS = 3


def lease_key(session_id: str, stream: str) -> str:
    return f"lease:{session_id}:{stream}"


class Lease:
    """The lease of one running request of a session.

    Renewed by a thread every ``interval`` seconds (``MCP_LEASE_INTERVAL``)
    while the handler runs.
    """

    #: Seconds a lease record is kept after its last renewal, so a resuming
    #: client can still learn which request was orphaned and get an answer.
    ttl = 300.0

    def __init__(
        self,
        store: Store,
        session_id: str,
        stream: str,
        request_id: RequestId,
        interval: float,
    ) -> None:
        self._store = store
        self._key = lease_key(session_id, stream)
        self._request_id = request_id
        self._interval = interval
        self._done = threading.Event()

    def start(self) -> None:
        self._renew()
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self) -> None:
        self._done.set()

    def _run(self) -> None:
        while not self._done.wait(self._interval):
            self._renew()

    def _renew(self) -> None:
        record = {"id": self._request_id, "at": time.time()}
        try:
            self._store.set(self._key, record, self.ttl)
        except Exception as exc:  # the stream reports store failures itself
            log.debug("lease renewal failed: %s", exc)


def live(record: t.Any, interval: float) -> bool:
    """Whether a lease record was renewed recently enough."""
    return (
        isinstance(record, dict)
        and isinstance(record.get("at"), float)
        and time.time() - record["at"] < interval * MISSED_RENEWALS
    )


def orphan(record: t.Any, interval: float) -> RequestId | None:
    """The request id of a lease whose worker stopped renewing it."""
    if not isinstance(record, dict) or not isinstance(record.get("at"), float):
        return None
    if live(record, interval):
        return None
    request_id = record.get("id")
    return request_id if isinstance(request_id, (str, int)) else None
