"""The gateway's channels, and what is published on them.

Every change on the bus is published twice, whatever it is: once on the
*listen* chain that every listen stream follows, once on the *session*
chain of the 2025 GET streams. Both carry the bus position as the item id
and the one before as ``prev-id``, so the gateway sees one unbroken chain per
era: it puts items back in order (Pushpin waits up to ``message_wait`` for a
late one), and a stream that missed one asks the server for what it missed
through its next link instead of going on without it.

Which streams show an item is decided by the gateway's ``require-sub``
filter: each item names a *marker*, the gateway channel of the change's bus
channel (:meth:`Change.channels`), and only streams that follow that marker
keep it. A listen asking for tool changes follows ``<prefix>list:tools``; a
2025 session follows ``<prefix>session:<id>`` and the markers of the
resources it subscribed to. Markers carry only control actions (``hint``,
``close``).

Listen streams tag each message with their own ``subscriptionId``: the
listen item is a template that the gateway's ``var-subst`` filter fills in
with the value each stream set through ``Grip-Set-Meta``.

Each held stream also follows an *identity* channel of its own, with a fixed
``prev-id`` and nothing ever published on it: the gateway names it in
``Grip-Last`` when it asks for the stream's next part, which is how the
server knows which stream asks while all streams share one next-link URL
(Pushpin refreshes up to 100 streams per action only when their links are
equal, and it rate-limits actions to 10 a second).
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import typing as t

from ..transport.bus import Change
from ..transport.holds import Era
from ..transport.holds import listen_event
from ..transport.holds import session_event

#: Channels one held stream may follow: a stream that needs more is held by
#: the worker. Pushpin's ``connection_subscription_max`` must be at least
#: this (:mod:`~flask_mcp.gateway.pushpin_config` writes it).
MAX_CHANNELS = 100
#: The ``Grip-Set-Meta`` variable holding a listen's subscription id.
SUBSCRIPTION_VAR = "sub"
#: Longest subscription id (as JSON text) a held listen may have.
MAX_SUBSCRIPTION_JSON = 256
#: The fixed ``prev-id`` of identity channels.
IDENTITY_ID = "0"

_PREFIX = re.compile(r"^[A-Za-z0-9_.:-]{0,80}$")
#: What follows the server's name in its prefix: ``.<8 hex digits>.``.
_RANDOM_PART = 10


def check_server_name(name: str) -> None:
    """Refuse at start-up a server name that cannot begin channel names
    (else every stream held at the gateway would fail)."""
    if not _PREFIX.match(name + "x" * _RANDOM_PART):
        raise ValueError(
            f"the MCP server name {name!r} cannot name gateway channels: use"
            f" A-Z a-z 0-9 _ . : - and at most {80 - _RANDOM_PART} characters"
        )


class Channels:
    """The gateway channel names of one MCP server.

    :param prefix: keeps the servers that share a gateway apart; a function
        is called once, when a name is first needed (it may read the store).
    """

    def __init__(self, prefix: str | t.Callable[[], str]) -> None:
        self._source = prefix

    @functools.cached_property
    def prefix(self) -> str:
        prefix = self._source() if callable(self._source) else self._source
        if not _PREFIX.match(prefix):
            raise ValueError(f"channel prefix {prefix!r}: A-Z a-z 0-9 _ . : -")
        return prefix

    def chain(self, era: Era) -> str:
        """The channel every stream of ``era`` follows, with ``prev-id``."""
        return self.prefix + ("L" if era == "listen" else "S")

    def control(self, era: Era) -> str:
        """Every stream of ``era`` follows it: a ``hint`` there asks each for
        its next part (:meth:`.Relay.end_all`)."""
        return self.prefix + ("ctl.listen" if era == "listen" else "ctl.session")

    def marker(self, bus_channel: str) -> str:
        """The gateway channel of a bus channel (:mod:`~flask_mcp.transport.bus`)."""
        return self.prefix + bus_channel

    def identity(self, token: str) -> str:
        return f"{self.prefix}id.{token}"

    def token_of(self, channel: str) -> str | None:
        """The token of an identity channel's name; ``None`` for others."""
        start = self.prefix + "id."
        return channel[len(start) :] if channel.startswith(start) else None


def listen_item(change: Change) -> str:
    """``change`` as a listen stream shows it, ``subscriptionId`` left to
    the gateway (``%(sub)s``); every other ``%`` escaped for it."""
    return _fill(listen_event(change, _SLOT_JSON))


def session_item(position: int, change: Change) -> str:
    """``change`` as a 2025 GET stream shows it (the gateway changes nothing)."""
    return session_event(position, change).decode()


def subscription_meta(values: t.Mapping[str, str]) -> str | None:
    """The ``Grip-Set-Meta`` value of a listen, from its ``values``
    (``None``: the subscription id is too long to hold at the gateway)."""
    value = values["subscriptionId"]
    if len(value) > MAX_SUBSCRIPTION_JSON or not value.isascii():
        return None
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{SUBSCRIPTION_VAR}="{quoted}"'


# A placeholder no real value can contain (a fresh random string), swapped
# for the gateway's variable once the message is encoded.
_SLOT_JSON = json.dumps("grip-slot-" + secrets.token_hex(16))


def _fill(event: bytes) -> str:
    text = event.decode().replace("%", "%%")
    return text.replace(_SLOT_JSON, f"%({SUBSCRIPTION_VAR})s")
