"""What the workers publish to the gateway, and when.

* every bus change, on both chains (:mod:`.channels`), as the bus publishes
  it (:attr:`NotificationBus.observers
  <flask_mcp.transport.bus.NotificationBus.observers>`);
* for a :data:`~flask_mcp.transport.bus.REOPEN` control (a 2025 session's
  resource subscriptions changed), an empty item on the chains and a
  ``hint`` to the session's GET streams: they ask for their next part and
  follow the new resources at once, without the client reconnecting;
* the end of a 2025 session: its GET streams close at once;
* the graceful end of every held stream (:meth:`Relay.end_all`).
"""

from __future__ import annotations

from gripcontrol import HttpStreamFormat
from pubcontrol import Item

from ..transport.bus import BROADCAST
from ..transport.bus import REOPEN
from ..transport.bus import Change
from ..transport.bus import session_channel
from ..transport.sessions import Session
from .channels import Channels
from .channels import listen_item
from .channels import session_item
from .publisher import Publisher
from .records import HoldRecords

#: Bus channels no listen stream follows: their listen item is left empty
#: (it only keeps the chain whole).
_SESSION_ONLY = ("session:", BROADCAST)


class Relay:
    """Turns bus changes and session events into publications."""

    def __init__(
        self, channels: Channels, publisher: Publisher, records: HoldRecords
    ) -> None:
        self.channels = channels
        self.publisher = publisher
        self.records = records

    def published(self, position: int, change: Change) -> None:
        """Send ``change``, published on the bus at ``position``."""
        bus_channel = change.channels()[0]
        marker = self.channels.marker(bus_channel)
        control = change.method == REOPEN
        listen = "" if control or bus_channel.startswith(_SESSION_ONLY) else None
        batch = [
            (
                self.channels.chain("listen"),
                self._item(
                    listen_item(change) if listen is None else listen, position, marker
                ),
            ),
            (
                self.channels.chain("session"),
                self._item(
                    "" if control else session_item(position, change), position, marker
                ),
            ),
        ]
        if control:
            batch.append((marker, Item(HttpStreamFormat(action="hint"))))
        self.publisher.send(batch)

    @staticmethod
    def _item(content: str, position: int, marker: str) -> Item:
        return Item(
            HttpStreamFormat(content),
            id=str(position),
            prev_id=str(position - 1),
            meta={"require_sub": marker},
        )

    def session_ended(self, session: Session) -> None:
        """Close the GET streams of ``session``, ended (``DELETE``)."""
        marker = self.channels.marker(session_channel(session.id))
        self.publisher.send([(marker, Item(HttpStreamFormat(close=True)))])

    def end_all(self) -> None:
        """End every stream held at the gateway until now, gracefully.

        Each is told to ask for its next part (a ``hint``), and that part
        ends it as the end of its hold would: listens get their result and
        leave a cursor (:mod:`~flask_mcp.transport.cursors`), so the
        client's next listen replays what came after; GET streams end with
        their position as the last event id, so their clients resume from
        it. A stream whose hint is lost ends at its next refresh.
        """
        self.records.end_all()
        hint = HttpStreamFormat(action="hint")
        self.publisher.send(
            [
                (self.channels.control("listen"), Item(hint)),
                (self.channels.control("session"), Item(hint)),
            ]
        )
