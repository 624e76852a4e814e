"""Signals for metrics: how long store operations take, and outages.

They are :mod:`blinker` signals, as Flask's own (``request_finished``...):
connect a receiver to count or time, and nothing is measured while none is
connected. The sender of each is the store's
:class:`~flask_mcp.store.health.Health` (``store.health``, shared by a store
and its children), so ``connect_via(store.health)`` hears one store only.
Receivers run in the thread of the operation: they must be quick and must
not raise (an exception would reach the request).

Example, with ``prometheus_client``::

    from flask_mcp.store.signals import store_called

    STORE_SECONDS = Histogram("mcp_store_seconds", "...", ["kind", "failed"])

    @store_called.connect
    def observe(sender, kind, seconds, failed):
        STORE_SECONDS.labels(kind, str(failed)).observe(seconds)
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: One operation of a :class:`~flask_mcp.store.Store` finished (only while a
#: receiver is connected for its sender). Keyword arguments: ``kind``
#: (``read``, ``write``, ``remove``, ``lock`` or ``sweep``: see
#: :mod:`flask_mcp.store.health`), ``seconds`` (refusals while the store is
#: known to be down included: they take microseconds) and ``failed``
#: (whether it raised :class:`~flask_mcp.store.StoreUnavailable`; a lock not
#: had in time is no failure of the store).
store_called = _signals.signal("mcp-store-called")

#: The first failure of an outage, once per process (the warning that is
#: logged). Keyword arguments: ``kind`` and ``error`` (the
#: :class:`~flask_mcp.store.StoreUnavailable`; its ``unreachable`` says
#: whether the store now fails fast).
store_unavailable = _signals.signal("mcp-store-unavailable")

#: The store answers again, once per process and outage. Keyword arguments:
#: ``kind`` (the first kind that failed) and ``seconds`` (how long it lasted).
store_recovered = _signals.signal("mcp-store-recovered")
