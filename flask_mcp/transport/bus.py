"""Change notifications for every client, through the shared store.

One append per change, however many clients there are: list changes and
resource updates go into one log in the store, and every stream that
delivers them (a legacy session's GET stream, a modern
``subscriptions/listen`` stream, on any worker of any host) reads that log
from its own position and keeps what its filter wants.
"""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass

from .events import EventLog

#: Where the log lives in the :class:`EventLog`'s key space.
_OWNER, _STREAM = "_bus", "all"

LIST_CHANGED = {
    "tools": "notifications/tools/list_changed",
    "resources": "notifications/resources/list_changed",
    "prompts": "notifications/prompts/list_changed",
}
RESOURCE_UPDATED = "notifications/resources/updated"


@dataclass(frozen=True)
class Change:
    """One published notification.

    :param session: deliver to this legacy session only (``None``: anyone).
    :param principal: deliver only to streams of this principal (``None``:
        anyone); a task's status goes to its creator alone.
    """

    method: str
    params: dict[str, t.Any]
    session: str | None = None
    principal: str | None = None

    @property
    def uri(self) -> str | None:
        value = self.params.get("uri")
        return (
            value
            if self.method == RESOURCE_UPDATED and isinstance(value, str)
            else None
        )

    def record(self) -> dict[str, t.Any]:
        record = {"m": self.method, "p": self.params, "s": self.session}
        if self.principal is not None:
            record["t"] = self.principal
        return record

    @classmethod
    def from_record(cls, record: t.Any) -> Change | None:
        if not isinstance(record, dict) or not isinstance(record.get("m"), str):
            return None  # an entry this code did not write: skipped
        params = record.get("p")
        return cls(
            record["m"],
            params if isinstance(params, dict) else {},
            record.get("s"),
            record.get("t"),
        )


class NotificationBus:
    """Publishes changes and follows them, over an :class:`EventLog`."""

    def __init__(self, events: EventLog, interval: float = 0.05) -> None:
        self.events = events
        self.interval = interval

    def publish(self, change: Change) -> int:
        """Append ``change``; its position in the log."""
        event_id = self.events.append(_OWNER, _STREAM, change.record())
        return int(event_id.rpartition(".")[2])

    def position(self) -> int:
        """The position of the newest change (0 when there is none)."""
        return self.events.last(_OWNER, _STREAM)

    def follow(
        self,
        after: int,
        hold: float,
        wanted: t.Callable[[Change], bool],
        *,
        stop: t.Callable[[], bool] = lambda: False,
    ) -> t.Iterator[tuple[int, Change | None]]:
        """Changes after position ``after`` that ``wanted`` keeps, for ``hold``
        seconds; ``(position, None)`` ticks when nothing came for a while,
        so a stream can send a keep-alive (and notice a closed client)."""
        deadline = time.monotonic() + hold
        quiet_since = time.monotonic()
        while not stop():
            for event_id, record in self.events.read(_OWNER, _STREAM, after):
                after = int(event_id.rpartition(".")[2])
                change = Change.from_record(record)
                if change is not None and wanted(change):
                    quiet_since = time.monotonic()
                    yield after, change
            now = time.monotonic()
            if now >= deadline:
                return
            if now - quiet_since >= 5.0:
                quiet_since = now
                yield after, None
            time.sleep(min(self.interval, max(0.0, deadline - now)))
