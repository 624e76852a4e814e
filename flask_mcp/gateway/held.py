"""Streams held at the gateway: the hold, and the stream's next parts.

:meth:`GripGateway.hold` answers a listen or a 2025 GET with the stream's
head and GRIP instructions, and remembers the stream in the store
(:mod:`.records`). From then on the gateway comes back for the stream's next
part, at the shared next-link URL, whenever

* it missed an item of the stream's chain (a publication was lost, or the
  stream started while one was on its way): the answer replays what the
  stream missed from the bus, from the ``Grip-Last`` id on;
* a ``hint`` was published for the stream (a 2025 session's resource
  subscriptions changed): the answer follows the new channels, and replays
  what the new ones had since the stream's channels were last computed;
* ``refresh`` seconds passed: the answer checks that the session still
  exists (and keeps it alive, as the worker's GET loop does), or ends the
  stream gracefully once its hold is over, so the client comes back with
  fresh credentials.

Each stream held at the gateway takes fair-share slots
(:mod:`~flask_mcp.transport.fairshare`) as a worker-held one does: the
gateway never says when a client left, so the slots are leased until a
little after the stream's next part is due, renewed by each next part and
freed when the stream ends; a client that left gives them back within
:func:`lease` of its last next part.
"""

from __future__ import annotations

import logging
import math
import time
import typing as t

from werkzeug.wrappers import Response

from ..protocol.jsonrpc import INVALID_REQUEST
from ..transport.bus import REOPEN
from ..transport.bus import NotificationBus
from ..transport.cursors import ListenCursors
from ..transport.cursors import identity
from ..transport.fairshare import FairShare
from ..transport.holds import HeldStream
from ..transport.responses import HTTPError
from .channels import IDENTITY_ID
from .channels import MAX_CHANNELS
from .channels import Channels
from .channels import subscription_meta
from .instructions import Subscription
from .instructions import end_response
from .instructions import hold_response
from .records import HoldRecord
from .records import HoldRecords
from .signature import GripSignature

log = logging.getLogger(__name__)

#: Largest head handed to the gateway (Pushpin refuses to hold a response
#: whose body is over 100,000 bytes); a longer replay stays in the worker.
MAX_HEAD = 64 * 1024
#: Most changes one next part replays.
MAX_REPLAY = 1000

#: The channels a 2025 session's GET stream follows now, from the session's
#: id, the stream's principal and its channels until now; ``None`` when the
#: session is gone (or another principal's).
SessionChannels = t.Callable[
    [str, "str | None", frozenset[str]], "frozenset[str] | None"
]
#: The next link of a stream's next part, relative to the next-link view.
NEXT_AGAIN = "next"


def lease(timeout: int) -> float:
    """Seconds a stream's fair-share slots last when its next part is due in
    ``timeout`` seconds: a little longer, as the gateway paces its requests
    (and may be late when many come due at once)."""
    return timeout * 1.25 + 5


class GripGateway:
    """Holds streams at a GRIP gateway and serves their next parts.

    :param hold: seconds a stream is held before its graceful end.
    :param refresh: seconds until the gateway asks for a stream's next part
        (a function: each stream gets its own, so they do not all come at once).
    :param next_link: the next-link view's URL relative to the endpoint's.
    """

    def __init__(
        self,
        *,
        signature: GripSignature,
        channels: Channels,
        records: HoldRecords,
        fair: FairShare,
        bus: NotificationBus,
        session_channels: SessionChannels,
        hold: float,
        refresh: t.Callable[[], int],
        next_link: str,
    ) -> None:
        self.signature = signature
        self.channels = channels
        self.records = records
        self.fair = fair
        self.bus = bus
        self.session_channels = session_channels
        self.hold_seconds = hold
        self.refresh = refresh
        self.next_link = next_link
        self.cursors = ListenCursors(records.store)

    # -- holding ---------------------------------------------------------------

    def signed(self, environ: t.Mapping[str, t.Any]) -> bool:
        """Whether the request came through the gateway (a valid ``Grip-Sig``)."""
        return self.signature.verify(environ.get("HTTP_GRIP_SIG"))

    def can_hold(self, stream: HeldStream) -> bool:
        """Whether the gateway can hold ``stream`` as it is."""
        if len(stream.channels) + 3 > MAX_CHANNELS or len(stream.head) > MAX_HEAD:
            return False
        return stream.era == "session" or subscription_meta(stream.values) is not None

    def hold(self, stream: HeldStream) -> Response:
        """Hand ``stream`` to the gateway (check :meth:`can_hold` first).

        :raises HTTPError: 429 past the principal's or the address's cap.
        """
        deadline = time.time() + self.hold_seconds
        timeout = self._timeout(deadline)
        ticket = self.fair.admit(
            stream.principal, stream.client, stream.request_id, lease=lease(timeout)
        )
        try:
            record = HoldRecord.new(stream, deadline, ticket)
            self.records.save(record)
        except BaseException:
            ticket.release()
            raise
        return self._hold_response(
            record, stream.head, stream.after, self.next_link, timeout
        )

    # -- next parts ------------------------------------------------------------

    def next_part(self, environ: t.Mapping[str, t.Any]) -> Response:
        """The answer to the gateway's next-link request."""
        if not self.signed(environ):
            raise HTTPError(403, INVALID_REQUEST, "Forbidden: not from the gateway")
        token, after = self._last_ids(str(environ.get("HTTP_GRIP_LAST", "")))
        record = self.records.load(token) if token is not None else None
        if record is None or after is None:
            return end_response(b"")  # unknown or expired: the client reconnects
        stream = record.stream
        added: frozenset[str] = frozenset()
        since = after
        if stream.era == "session":
            now = self.bus.position()  # before the session is read
            session_id = _session_of(stream)
            current = (
                self.session_channels(session_id, stream.principal, stream.channels)
                if session_id
                else None
            )
            if current is None:
                self._free(record)
                return end_response(b"")  # the session ended
            if current != stream.channels:
                added = current - stream.channels
                since = min(after, record.at)
                record = record.following(current, now)
                self.records.save(record)
                stream = record.stream
        replay = self._replay(stream, after, since, added)
        if replay is None:  # what it missed is no longer in the store
            self._free(record)
            return end_response(stream.end(after))
        body, last = replay
        if record.over or self.records.ended(record):
            self._free(record)
            if stream.era == "listen":  # the next listen replays from here
                listener = identity(stream.principal, stream.client, stream.channels)
                self.cursors.remember(listener, last)
            return end_response(body + stream.end(last))
        timeout = self._timeout(record.deadline)
        self.fair.renew(record.slots, record.slot_token, lease(timeout))
        return self._hold_response(record, body, last, NEXT_AGAIN, timeout)

    def _free(self, record: HoldRecord) -> None:
        self.fair.free(record.slots, record.slot_token)

    def _timeout(self, deadline: float) -> int:
        """Seconds until the gateway asks for the next part: at the end of
        the hold at the latest."""
        return max(1, min(self.refresh(), math.ceil(deadline - time.time())))

    def _replay(
        self, stream: HeldStream, after: int, since: int, added: frozenset[str]
    ) -> tuple[bytes, int] | None:
        """What ``stream`` missed after ``after`` (and what the channels
        ``added`` to it had after ``since``), with the position it is then
        complete up to; ``None`` if the bus no longer has it all."""
        upto = self.bus.position()
        if after > upto:  # the log started over (a Redis emptied or replaced)
            return None
        missed = self.bus.changes(after, upto)
        if upto > after and (not missed or missed[0][0] != after + 1):
            return None
        parts = [
            stream.event(position, change)
            for position, change in (self.bus.changes(since, after) if added else [])
            if change.method != REOPEN and not added.isdisjoint(change.channels())
        ]
        last = after
        for position, change in missed:
            if len(parts) >= MAX_REPLAY:
                break  # the rest comes with the next part
            last = position
            if change.method != REOPEN and stream.wants(change):
                parts.append(stream.event(position, change))
        return b"".join(parts), last

    def _hold_response(
        self, record: HoldRecord, body: bytes, after: int, link: str, timeout: int
    ) -> Response:
        era = record.stream.era
        listen = era == "listen"
        subscriptions = [
            Subscription(
                self.channels.chain(era),
                prev_id=str(after),
                filters=("require-sub", "var-subst") if listen else ("require-sub",),
            ),
            Subscription(self.channels.control(era)),
            Subscription(self.channels.identity(record.token), prev_id=IDENTITY_ID),
            *(
                Subscription(self.channels.marker(c))
                for c in sorted(record.stream.channels)
            ),
        ]
        return hold_response(
            body,
            subscriptions,
            next_link=link,
            refresh=timeout,
            meta=subscription_meta(record.stream.values) if listen else None,
        )

    def _last_ids(self, header: str) -> tuple[str | None, int | None]:
        """The identity token and the chain's last id from ``Grip-Last``."""
        token = after = None
        for part in header.split(",")[: MAX_CHANNELS + 1]:
            name, _, params = part.strip().partition(";")
            key, _, value = params.strip().partition("=")
            if key.strip() != "last-id":
                continue
            found = self.channels.token_of(name.strip())
            if found is not None:
                token = found
            elif name.strip() in (
                self.channels.chain("listen"),
                self.channels.chain("session"),
            ):
                value = value.strip()
                if value.isdigit() and len(value) <= 18:
                    after = int(value)
        return token, after


def _session_of(stream: HeldStream) -> str | None:
    for channel in stream.channels:
        if channel.startswith("session:"):
            return channel[len("session:") :]
    return None
