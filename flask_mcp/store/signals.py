"""Signals for metrics: how long store operations take, and outages.

They are :mod:`blinker` signals, as Flask's own (``request_finished``...):
connect a receiver to count or time, and nothing is measured while none is
connected. Receivers run in the thread of the operation, so they must be
quick and must not raise (an exception would reach the request).

Example, with ``prometheus_client``::

    from flask_mcp.store.signals import operation_finished

    STORE_SECONDS = Histogram("mcp_store_seconds", "...", ["op", "outcome"])

    @operation_finished.connect
    def observe(sender, op, kind, outcome, seconds, **extra):
        STORE_SECONDS.labels(op, outcome).observe(seconds)
"""

from __future__ import annotations

from blinker import Namespace

__all__ = ["operation_finished", "outage_ended", "outage_started"]

_signals = Namespace()

#: Sent after each operation of a :class:`~flask_mcp.store.Store` (only while
#: a receiver is connected). The sender is the store; keyword arguments:
#:
#: * ``op``: ``get``, ``set``, ``add``, ``delete``, ``take``, ``incr``,
#:   ``lock``, ``unlock`` or ``sweep``;
#: * ``kind``: the ``Kind`` (:mod:`flask_mcp.store.health`) of the operation;
#: * ``outcome``: ``ok``; ``unavailable`` (the backend failed); ``refused``
#:   (not tried: the backend is known to be down); ``busy`` (a lock was
#:   not had in time);
#: * ``seconds``: how long it took, refusals included.
operation_finished = _signals.signal("store-operation-finished")

#: Sent once per process when an outage starts (the warning that is logged).
#: The sender is the store's :class:`~flask_mcp.store.health.Health`;
#: keyword arguments: ``backend`` (its name in the log), ``error`` (the
#: :class:`~flask_mcp.store.StoreUnavailable`) and ``unreachable`` (whether
#: every operation fails, so that the store now fails fast).
outage_started = _signals.signal("store-outage-started")

#: Sent once per process when that outage ends. Keyword arguments:
#: ``backend`` and ``seconds`` (how long it lasted).
outage_ended = _signals.signal("store-outage-ended")
