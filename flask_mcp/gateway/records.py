"""What the server remembers of a stream held at the gateway.

The gateway's requests for a stream's next part carry no credentials and no
request body: only the ``Grip-Last`` ids of the stream's channels. The
stream's description is kept in the shared store under a random token
(the stream's identity channel), so any worker of any host can serve those
requests, and it is gone when the stream's hold is over.
"""

from __future__ import annotations

import secrets
import time
import typing as t
from dataclasses import dataclass
from dataclasses import replace

from ..store import Store
from ..transport.fairshare import Ticket
from ..transport.holds import HeldStream

#: Seconds a record outlives the end of its hold (the last next-link
#: request may come a little late).
_GRACE = 120.0
#: Where :meth:`HoldRecords.end_all` leaves its time, and for how long (any
#: record it concerns has expired long before).
_ENDED = "grip:ended"
_ENDED_TTL = 10 * 365 * 86400.0


@dataclass(frozen=True)
class HoldRecord:
    """A held stream without its head, and when its hold ends.

    ``stream.after`` is the bus position at which its channels were last
    computed (:attr:`at`): a channel added later replays from there.
    ``slots`` are the fair-share slots it holds (taken under ``token``).
    """

    token: str
    stream: HeldStream
    deadline: float
    start: float = 0.0
    slots: tuple[str, ...] = ()
    slot_token: str = ""

    @property
    def at(self) -> int:
        return self.stream.after

    @classmethod
    def new(cls, stream: HeldStream, deadline: float, ticket: Ticket) -> HoldRecord:
        return cls(
            secrets.token_urlsafe(18),
            replace(stream, head=b""),
            deadline,
            time.time(),
            tuple(ticket.keys),
            ticket.token,
        )

    @property
    def over(self) -> bool:
        return time.time() >= self.deadline

    def following(self, channels: frozenset[str], at: int) -> HoldRecord:
        """The record of the stream once it follows ``channels`` from ``at``."""
        return replace(self, stream=replace(self.stream, channels=channels, after=at))

    def to_json(self) -> dict[str, t.Any]:
        s = self.stream
        return {
            "era": s.era,
            "ch": sorted(s.channels),
            "v": dict(s.values),
            "pr": s.principal,
            "cl": s.client,
            "retry": s.retry_ms,
            "id": s.request_id,
            "at": s.after,
            "end": self.deadline,
            "start": self.start,
            "slots": list(self.slots),
            "slot": self.slot_token,
        }

    @classmethod
    def from_json(cls, token: str, data: t.Any) -> HoldRecord | None:
        """``None`` for anything this code did not write."""
        try:
            era = data["era"]
            if era not in ("listen", "session"):
                return None
            stream = HeldStream(
                era=era,
                head=b"",
                after=int(data["at"]),
                channels=frozenset(str(c) for c in data["ch"]),
                values={str(k): str(v) for k, v in data["v"].items()},
                principal=data["pr"],
                client=data["cl"],
                retry_ms=int(data["retry"]),
                request_id=data["id"],
            )
            return cls(
                token,
                stream,
                float(data["end"]),
                float(data.get("start", 0.0)),
                tuple(str(key) for key in data.get("slots", ())),
                str(data.get("slot", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


class HoldRecords:
    """:class:`HoldRecord` in the store, by token."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def save(self, record: HoldRecord) -> None:
        ttl = max(1.0, record.deadline - time.time()) + _GRACE
        self.store.set(self._key(record.token), record.to_json(), ttl)

    def load(self, token: str) -> HoldRecord | None:
        if not token.replace("-", "").replace("_", "").isalnum() or len(token) > 64:
            return None
        return HoldRecord.from_json(token, self.store.get(self._key(token)))

    def end_all(self) -> None:
        """Every stream held until now ends at its next part."""
        self.store.set(_ENDED, time.time(), _ENDED_TTL)

    def ended(self, record: HoldRecord) -> bool:
        """Whether :meth:`end_all` was called since ``record``'s stream began."""
        mark = self.store.get(_ENDED)
        return isinstance(mark, (int, float)) and record.start <= mark

    @staticmethod
    def _key(token: str) -> str:
        return f"grip:hold:{token}"
