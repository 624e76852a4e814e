"""How the operations features listen to :mod:`flask_mcp.signals`.

A receiver runs inside the request it observes: a bug or an outage in
telemetry (a full disk under the metrics folder, a broken log handler) must
never fail that request, so every receiver is :func:`guarded`. Receivers are
connected strongly, for one sender: blinker drops them when the sender (the
app, a store's health) goes.
"""

from __future__ import annotations

import functools
import logging
import typing as t

from blinker import Signal

log = logging.getLogger(__name__)

F = t.TypeVar("F", bound=t.Callable[..., None])

#: Receivers that already logged a failure (each logs its first only).
_failed: set[str] = set()


def guarded(receiver: F) -> F:
    """``receiver``, logging its first failure instead of raising."""

    @functools.wraps(receiver)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> None:
        try:
            receiver(*args, **kwargs)
        except Exception:
            name = receiver.__qualname__
            if name not in _failed:
                _failed.add(name)
                log.exception("%s failed; the request goes on without it", name)

    return t.cast(F, wrapper)


def connect(sender: t.Any, receivers: t.Mapping[Signal, t.Callable[..., None]]) -> None:
    """Connect each receiver to its signal, for ``sender`` only."""
    for signal, receiver in receivers.items():
        signal.connect(receiver, sender=sender, weak=False)
