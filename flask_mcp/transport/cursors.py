"""Where a listen stream ended, so the client's next listen misses nothing.

The 2026-07-28 revision gives a listen no way to say where it stopped: no
event ids, no ``Last-Event-ID``, and the official clients send a fresh
filter under a new id (the Python SDK's advice is "re-listen and refetch").
So when the *server* ends a listen (its thread was needed, the worker
stops, the hold's time is up), it remembers the bus position under what
identifies the listener: its principal, its address and the channels it
follows. A listen with the same identity within :data:`CURSOR_TTL` seconds
first replays what was published since.

Two clients that share principal, address and filter (behind one NAT) may
then get a change twice. These notifications say "look again": harmless
twice, harmful never.
"""

from __future__ import annotations

import hashlib
import typing as t

from ..store import Store

#: Seconds a listen's end position is kept for the next listen.
CURSOR_TTL = 60.0


def identity(
    principal: str | None, client: str | None, channels: t.Iterable[str]
) -> str:
    text = "\n".join([principal or "", client or "", *sorted(channels)])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]


class ListenCursors:
    """End positions of server-ended listens, in the shared store."""

    def __init__(self, store: Store, ttl: float = CURSOR_TTL) -> None:
        self.store = store
        self.ttl = ttl

    def get(self, key: str) -> int | None:
        value = self.store.get(f"listen-cursor:{key}")
        return value if isinstance(value, int) and value >= 0 else None

    def remember(self, key: str, position: int) -> None:
        self.store.set(f"listen-cursor:{key}", position, self.ttl)
