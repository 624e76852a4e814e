"""Change notifications for every client, through the shared store.

One append per change, however many clients there are: list changes and
resource updates go into one log in the store, and every stream that
delivers them (a legacy session's GET stream, a modern
``subscriptions/listen`` stream, on any worker of any host, or a gateway)
follows that log from its own position.

Each change is published on **channels** (:meth:`Change.channels`), and
each held stream follows a set of them (see :mod:`.holds`): a stream gets a
change when they share a channel. Channel names are plain ASCII, at most 72
characters (a stream gateway such as Pushpin uses them as they are):

=============================  =============================================
``list:tools``, ``list:...``   ``notifications/<kind>/list_changed``
``resource:<digest>``          ``notifications/resources/updated`` of a URI
``session:<session id>``       anything sent to one 2025 session
``task:<digest>``              the status of one task (the tasks extension's
                               ``notifications/tasks``): the listens whose
                               ``taskIds`` name it
``broadcast``                  any other notification; no stream follows it
=============================  =============================================
"""

from __future__ import annotations

import hashlib
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
#: The channel of notifications no filter names: nobody follows it.
BROADCAST = "broadcast"
#: Not a notification but a control change: the streams following its
#: channel end gracefully at once, and their clients reconnect to streams
#: described anew (a 2025 session subscribed to another resource).
REOPEN = "flask-mcp/reopen"


def list_channel(kind: str) -> str:
    """The channel of ``notifications/<kind>/list_changed``."""
    return f"list:{kind}"


def resource_channel(uri: str) -> str:
    """The channel of ``notifications/resources/updated`` for ``uri`` (any
    length, any characters: named by a digest)."""
    return "resource:" + _digest(uri)


def session_channel(session_id: str) -> str:
    return f"session:{session_id}"


def task_channel(task_id: str) -> str:
    """The channel of one task's status notifications."""
    return "task:" + _digest(task_id)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


_LIST_KINDS = {method: kind for kind, method in LIST_CHANGED.items()}


@dataclass(frozen=True)
class Change:
    """One published notification.

    :param session: deliver to this 2025 session only.
    :param channel: publish on this channel only (a task's,
        :func:`task_channel`), whatever the method.

    With none of them, it goes to every stream that follows its kind.
    """

    method: str
    params: dict[str, t.Any]
    session: str | None = None
    channel: str | None = None

    @property
    def uri(self) -> str | None:
        value = self.params.get("uri")
        return (
            value
            if self.method == RESOURCE_UPDATED and isinstance(value, str)
            else None
        )

    def channels(self) -> tuple[str, ...]:
        """Where this change is published (see the module docstring)."""
        if self.channel is not None:
            return (self.channel,)
        if self.session is not None:
            return (session_channel(self.session),)
        uri = self.uri
        if uri is not None:
            return (resource_channel(uri),)
        kind = _LIST_KINDS.get(self.method)
        return (list_channel(kind),) if kind else (BROADCAST,)

    def record(self) -> dict[str, t.Any]:
        record = {"m": self.method, "p": self.params, "s": self.session}
        if self.channel is not None:
            record["c"] = self.channel
        return record

    @classmethod
    def from_record(cls, record: t.Any) -> Change | None:
        if not isinstance(record, dict) or not isinstance(record.get("m"), str):
            return None  # an entry this code did not write: skipped
        params = record.get("p")
        session, channel = record.get("s"), record.get("c")
        return cls(
            record["m"],
            params if isinstance(params, dict) else {},
            session if isinstance(session, str) else None,
            channel if isinstance(channel, str) else None,
        )


class NotificationBus:
    """Publishes changes and reads them back, over an :class:`EventLog`.

    Positions count from 1 and never go back while the store keeps its data
    (the counter outlives the entries, which expire with the event log).
    """

    #: Seconds the position counter outlives the last publication.
    counter_ttl = 10 * 365 * 86400.0

    def __init__(self, events: EventLog) -> None:
        self.events = events
        #: Called with ``(position, change)`` after each publication: a stream
        #: gateway forwards it (:mod:`flask_mcp.gateway`).
        self.observers: list[t.Callable[[int, Change], None]] = []

    def publish(self, change: Change) -> int:
        """Append ``change``; its position in the log."""
        event_id = self.events.append(
            _OWNER, _STREAM, change.record(), self.counter_ttl
        )
        position = int(event_id.rpartition(".")[2])
        for observer in self.observers:
            observer(position, change)
        return position

    def position(self) -> int:
        """The position of the newest change (0 when there is none)."""
        return self.events.last(_OWNER, _STREAM)

    def changes(self, after: int, upto: int) -> list[tuple[int, Change]]:
        """The changes at positions ``after < p <= upto``, in order; stops
        at a gap (an entry not yet written, or expired)."""
        out = []
        for event_id, record in self.events.read(_OWNER, _STREAM, after, upto):
            change = Change.from_record(record)
            if change is not None:
                out.append((int(event_id.rpartition(".")[2]), change))
            else:  # unreadable: skipped, but its position counts
                out.append((int(event_id.rpartition(".")[2]), _SKIPPED))
        return out

    def exists(self, position: int) -> bool:
        """Whether the entry at ``position`` is in the log."""
        return self.events.entry(_OWNER, _STREAM, position) is not None


#: Stands for an entry this code did not write; nobody follows its channel.
_SKIPPED = Change("", {}, session="")
