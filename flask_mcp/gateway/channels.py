"""The gateway's channels, and what is published on them.

Every change on the bus is published twice, whatever it is: once on the
*modern* channel that every listen stream follows, once on the *legacy*
channel of the 2025 GET streams. Both carry the bus position as the item id
and the one before as ``prev-id``, so the gateway sees one unbroken chain per
channel: it puts items back in order, and a stream that missed one asks the
server for what it missed (its next link) instead of going on without it.

Which streams show an item is decided by the gateway's ``require-sub``
filter: each item names a *marker* channel, and only streams that follow
that marker keep it. A listen asking for tool changes follows
``m.tools``; a 2025 session follows ``l.s.<session id>`` and one
``l.r.<digest>`` per resource it subscribed to. Markers carry nothing but
control actions (``hint``, ``close``).

Listen streams tag each message with their own ``subscriptionId``: the
modern item is a template that the gateway's ``var-subst`` filter fills in
with the value each stream set through ``Grip-Set-Meta``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from ..protocol.envelope import META_SUBSCRIPTION
from ..protocol.jsonrpc import RequestId
from ..protocol.jsonrpc import notification_message
from ..protocol.jsonrpc import result_message
from ..transport.bus import LIST_CHANGED
from ..transport.bus import Change
from ..transport.events import STANDALONE
from ..transport.events import format_event

#: Channels one held stream may follow: a listen asking for more resources
#: than fit is served by the worker instead. Pushpin's
#: ``connection_subscription_max`` must be at least this (our configuration
#: writes :data:`~flask_mcp.gateway.pushpin_config.SUBSCRIPTIONS_PER_CONNECTION`).
MAX_CHANNELS = 100
#: The ``Grip-Set-Meta`` variable holding a listen's subscription id.
SUBSCRIPTION_VAR = "sub"
#: Longest subscription id (as JSON) a held listen may have.
MAX_SUBSCRIPTION_JSON = 256

_KIND_OF = {method: kind for kind, method in LIST_CHANGED.items()}
_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{0,64}$")


@dataclass(frozen=True)
class Channels:
    """The channel names of one MCP server (``prefix`` keeps servers apart)."""

    prefix: str

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.prefix):
            raise ValueError(f"channel prefix {self.prefix!r}: A-Z a-z 0-9 _ . -")

    # -- the two chains ------------------------------------------------------

    @property
    def modern(self) -> str:
        return self.prefix + "M"

    @property
    def legacy(self) -> str:
        return self.prefix + "L"

    # -- markers ---------------------------------------------------------------

    def kind(self, kind: str) -> str:
        """Listens that asked for ``kind`` (tools, prompts, resources) changes."""
        return f"{self.prefix}m.{kind}"

    def modern_resource(self, uri: str) -> str:
        return f"{self.prefix}m.r.{_digest(uri)}"

    @property
    def legacy_broadcast(self) -> str:
        """Every 2025 GET stream (list changes and other broadcasts)."""
        return self.prefix + "l.all"

    def legacy_resource(self, uri: str) -> str:
        return f"{self.prefix}l.r.{_digest(uri)}"

    def session(self, session_id: str) -> str:
        """The GET streams of one 2025 session (its messages, its controls)."""
        return f"{self.prefix}l.s.{session_id}"

    @property
    def nobody(self) -> str:
        """A marker no stream follows: the item only keeps the chain whole."""
        return self.prefix + "none"

    # -- controls and identities -------------------------------------------

    @property
    def modern_control(self) -> str:
        """Every listen stream: a graceful end for all (:meth:`.end_all`)."""
        return self.prefix + "m.ctl"

    @property
    def legacy_control(self) -> str:
        return self.prefix + "l.ctl"

    def identity(self, token: str) -> str:
        """A channel only one held stream follows, with a fixed ``prev-id``:
        the gateway names it in ``Grip-Last`` when it asks for the stream's
        next part, which is how the server knows which stream asks. Nothing
        is ever published on it."""
        return f"{self.prefix}i.{token}"

    def token_of(self, name: str) -> str | None:
        start = self.prefix + "i."
        return name[len(start) :] if name.startswith(start) else None

    # -- where a change goes -------------------------------------------------

    def modern_target(self, change: Change) -> str:
        """The marker of listens that want ``change`` (as the worker's filter)."""
        if change.session is not None:
            return self.nobody  # for one 2025 session
        if change.uri is not None:
            return self.modern_resource(change.uri)
        kind = _KIND_OF.get(change.method)
        return self.kind(kind) if kind is not None else self.nobody

    def legacy_target(self, change: Change) -> str:
        if change.session is not None:
            return self.session(change.session)
        if change.uri is not None:
            return self.legacy_resource(change.uri)
        return self.legacy_broadcast


def modern_event(change: Change) -> str:
    """``change`` as a listen stream shows it, ``subscriptionId`` left to
    the gateway (``%(sub)s``); other ``%`` signs escaped for it."""
    params = {**change.params, "_meta": {META_SUBSCRIPTION: _SLOT}}
    return _fill(format_event(notification_message(change.method, params)))


def legacy_event(position: int, change: Change) -> str:
    """``change`` as a 2025 GET stream shows it: its id is the bus position."""
    message = notification_message(change.method, change.params)
    return format_event(message, f"{STANDALONE}.{position}").decode()


def listen_end_event() -> str:
    """The listen result that ends any listen stream gracefully."""
    done = {"resultType": "complete", "_meta": {META_SUBSCRIPTION: _SLOT}}
    return _fill(format_event(result_message(_SLOT, done)))


def subscription_meta(subscription: RequestId) -> str | None:
    """The ``Grip-Set-Meta`` value of a listen (``None``: too long to hold)."""
    value = json.dumps(subscription)
    if len(value) > MAX_SUBSCRIPTION_JSON:
        return None
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{SUBSCRIPTION_VAR}="{quoted}"'


# A placeholder no real value can equal (a fresh random string), swapped
# for the gateway's variable after the message is encoded.
_SLOT = "grip-" + secrets.token_hex(16)
_SLOT_JSON = json.dumps(_SLOT)


def _fill(event: bytes) -> str:
    text = event.decode().replace("%", "%%")
    return text.replace(_SLOT_JSON, f"%({SUBSCRIPTION_VAR})s")


def _digest(uri: str) -> str:
    return hashlib.sha256(uri.encode("utf-8", "surrogatepass")).hexdigest()[:32]
