"""What the workers publish to the gateway, and when.

* every bus change, on both chains (:mod:`.channels`), as the bus publishes
  it (:attr:`NotificationBus.observers
  <flask_mcp.transport.bus.NotificationBus.observers>`);
* a ``hint`` to a 2025 session's GET streams when its resource
  subscriptions change, so they follow the new resources at once;
* a ``close`` to them when the session ends;
* the graceful end of every held stream (:meth:`Relay.end_all`).
"""

from __future__ import annotations

from gripcontrol import HttpStreamFormat
from pubcontrol import Item

from ..transport.bus import Change
from ..transport.bus import session_channel
from .channels import Channels
from .channels import listen_end_item
from .channels import listen_item
from .channels import session_item
from .publisher import Publisher

#: Bus channels no listen stream follows: their listen item is left empty
#: (it only keeps the chain whole).
_SESSION_ONLY = ("session:", "broadcast")


class Relay:
    """Turns bus changes and session events into publications."""

    def __init__(self, channels: Channels, publisher: Publisher) -> None:
        self.channels = channels
        self.publisher = publisher

    def published(self, position: int, change: Change) -> None:
        """Send ``change``, published on the bus at ``position``."""
        bus_channel = change.channels()[0]
        marker = {"require_sub": self.channels.marker(bus_channel)}
        ids = {"id": str(position), "prev_id": str(position - 1)}
        listen = "" if bus_channel.startswith(_SESSION_ONLY) else listen_item(change)
        self.publisher.send(
            [
                (
                    self.channels.chain("listen"),
                    Item(HttpStreamFormat(listen), meta=marker, **ids),
                ),
                (
                    self.channels.chain("session"),
                    Item(
                        HttpStreamFormat(session_item(position, change)),
                        meta=marker,
                        **ids,
                    ),
                ),
            ]
        )

    def session_changed(self, session_id: str) -> None:
        """Its GET streams ask for their next part, with the new channels."""
        self._control(session_id, "hint")

    def session_ended(self, session_id: str) -> None:
        self._control(session_id, "close")

    def end_all(self) -> None:
        """End every stream held at the gateway gracefully: listens get
        their result, GET streams close (their clients resume with
        ``Last-Event-ID``)."""
        listen = self.channels.control("listen")
        self.publisher.send(
            [
                (listen, Item(HttpStreamFormat(listen_end_item()))),
                (listen, Item(HttpStreamFormat(action="close"))),
                (
                    self.channels.control("session"),
                    Item(HttpStreamFormat(action="close")),
                ),
            ]
        )

    def _control(self, session_id: str, action: str) -> None:
        marker = self.channels.marker(session_channel(session_id))
        self.publisher.send([(marker, Item(HttpStreamFormat(action=action)))])
