"""Server-sent events and the event log that makes streams resumable.

Every message sent on a stream of a session is appended to the shared store
under ``<stream>.<seq>`` ids; a client that lost the stream reconnects with
``GET`` and ``Last-Event-ID`` on any worker and gets the rest (Streamable
HTTP, "Resumability and Redelivery").
"""

from __future__ import annotations

import json
import re
import time
import typing as t

from ..protocol.jsonrpc import is_response
from ..store import Store

#: The stream of messages not tied to a request (the GET stream).
STANDALONE = "_"

Event = tuple[str, dict[str, t.Any]]


def format_event(
    data: dict[str, t.Any] | None,
    event_id: str | None = None,
    retry_ms: int | None = None,
) -> bytes:
    """One SSE event; ``data=None`` is a priming event (an id and empty data)."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if retry_ms is not None:
        lines.append(f"retry: {retry_ms}")
    if data is None:
        lines.append("data: ")
    else:
        lines.append("event: message")
        lines.append("data: " + json.dumps(data, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


_EVENT_ID = re.compile(r"^([A-Za-z0-9_-]{1,64})\.([0-9]{1,18})$")


def parse_event_id(event_id: str) -> tuple[str, int] | None:
    """``<stream>.<seq>`` as this server writes them; ``None`` for anything else
    (non-ASCII digits, huge numbers, odd stream names)."""
    found = _EVENT_ID.match(event_id)
    if found is None:
        return None
    return found.group(1), int(found.group(2))


class EventLog:
    """Append-only per-stream logs in the store, with a time-to-live."""

    def __init__(self, store: Store, ttl: float) -> None:
        self.store = store
        self.ttl = ttl

    def append(
        self,
        session_id: str,
        stream: str,
        message: dict[str, t.Any],
        counter_ttl: float | None = None,
    ) -> str:
        """Add ``message``; its event id.

        :param counter_ttl: how long the stream's counter outlives its last
            append (default: the events' time-to-live). A counter that
            expired would start again at 1, so ids of a long-lived stream
            would go back in time.
        """
        seq = self.store.incr(f"evn:{session_id}:{stream}", counter_ttl or self.ttl)
        self.store.set(f"ev:{session_id}:{stream}:{seq}", message, self.ttl)
        return f"{stream}.{seq}"

    def last(self, session_id: str, stream: str) -> int:
        return int(self.store.get(f"evn:{session_id}:{stream}") or 0)

    def read(
        self, session_id: str, stream: str, after: int, upto: int | None = None
    ) -> list[Event]:
        """Events after ``after`` (up to ``upto``, default the last), in
        order; stops at a gap (not yet written, or expired)."""
        if upto is None:
            upto = self.last(session_id, stream)
        out: list[Event] = []
        for seq in range(after + 1, upto + 1):
            message = self.entry(session_id, stream, seq)
            if message is None:
                break
            out.append((f"{stream}.{seq}", message))
        return out

    def entry(self, session_id: str, stream: str, seq: int) -> t.Any:
        """The event at ``seq``, or ``None``."""
        return self.store.get(f"ev:{session_id}:{stream}:{seq}")

    def follow(
        self,
        session_id: str,
        stream: str,
        after: int,
        hold: float,
        interval: float = 0.05,
        alive: t.Callable[[], bool] = lambda: True,
        stop: t.Callable[[], bool] = lambda: False,
        alive_every: float = 0.0,
    ) -> t.Iterator[Event]:
        """Replay, then poll until a response ends the stream, ``hold`` passes,
        ``alive`` says nobody will write to the stream any more, or ``stop``
        says to end now.

        :param alive_every: seconds between two calls of ``alive`` (it may
            cost a store read, and a writer's lease changes no faster).
        """
        deadline = time.monotonic() + hold
        last_look = False
        next_alive = 0.0
        while not stop():
            for event_id, message in self.read(session_id, stream, after):
                after = int(event_id.rpartition(".")[2])
                yield event_id, message
                if stream != STANDALONE and is_response(message):
                    return
            now = time.monotonic()
            if last_look or now >= deadline:
                return
            if now >= next_alive:
                last_look = not alive()  # one more read: the writer's last event
                next_alive = now + alive_every
            if not last_look:
                time.sleep(interval)
