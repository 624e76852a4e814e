"""Held streams, described once and served by a holder.

A *held stream* is an SSE response that stays open to deliver change
notifications as they are published: a 2026-07-28 ``subscriptions/listen``
or a 2025 session's GET stream. The protocol paths describe each one as a
:class:`HeldStream`; a :class:`Holder` serves that description:

* in the worker (:class:`~flask_mcp.transport.worker_holder.WorkerHolder`):
  the worker's thread writes the stream and yields it (ends it gracefully)
  as soon as other requests need the thread;
* at a stream gateway (Pushpin through GRIP): the worker answers at once
  with :attr:`HeldStream.head` and the channel list, and publishes each
  change to the gateway.

What a description holds:

``head``
    the SSE bytes to send first: the listen's acknowledgement, or a GET's
    priming event (``id: _.<position>`` and ``retry:``), then the replay of
    what the client missed.
``after``
    the bus position the stream follows from: changes at positions
    ``> after`` are the holder's to deliver (the head covers the rest).
``channels``
    what it follows, as channel names (:mod:`.bus`): list-changed kinds,
    resource URIs, a 2025 session, a principal's tasks.
``values``
    per-stream values, each as the JSON text that goes into the stream's
    messages: ``{"subscriptionId": "5"}`` or ``{"subscriptionId":
    "\\"listen-1\\""}`` for a listen (a number or a string), none for a GET.
``era``
    how a change is rendered: :func:`session_event` for ``"session"``
    (``id: _.<position>``, so ``Last-Event-ID`` resumes on any worker or at
    the gateway alike), :func:`listen_event` for ``"listen"`` (no event
    ids: the 2026-07-28 revision has no resumption).
:meth:`HeldStream.end`
    the bytes of a graceful end at a position: the listen result, or for a
    GET an empty event carrying the position as its id and the ``retry:``
    hint (how long the client waits before it reconnects with
    ``Last-Event-ID``).

A change whose method is :data:`~.bus.REOPEN` is a control, never a
message: the streams on its channel end gracefully at once (a GET's end
says ``retry: 0``) and their clients come back for a new description.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from dataclasses import field

from werkzeug.wrappers import Response

from ..protocol import jsonrpc
from ..protocol.envelope import META_SUBSCRIPTION
from .bus import REOPEN
from .bus import Change
from .events import STANDALONE
from .events import format_event

Era = t.Literal["listen", "session"]


@dataclass(frozen=True)
class HeldStream:
    """One held stream (see the module docstring for each field).

    :param principal: who holds it (``None``: anonymous), for fair-share
        accounting.
    :param client: the client's address key
        (:func:`~flask_mcp.addresses.client_key`).
    :param retry_ms: for ``"session"``: the reconnection delay the client was
        told in the head.
    :param request_id: for ``"listen"``: the listen request's id (the
        subscription id).
    """

    era: Era
    head: bytes
    after: int
    channels: frozenset[str]
    values: t.Mapping[str, str] = field(default_factory=dict)
    principal: str | None = None
    client: str | None = None
    retry_ms: int = 0
    request_id: jsonrpc.RequestId | None = None

    def event(self, position: int, change: Change) -> bytes:
        """The SSE event that delivers ``change`` (published at ``position``)."""
        if self.era == "session":
            return session_event(position, change)
        return listen_event(change, self.values["subscriptionId"])

    def end(self, position: int, retry_ms: int | None = None) -> bytes:
        """The bytes of a graceful end, after everything up to ``position``
        was delivered; ``retry_ms`` overrides the GET's reconnection delay
        (a longer one spreads reconnections when the server is busy)."""
        if self.era == "session":
            retry = self.retry_ms if retry_ms is None else retry_ms
            return format_event(None, f"{STANDALONE}.{position}", retry)
        return listen_end(self.values["subscriptionId"])

    def failure(self, message: str, retry_ms: int) -> bytes:
        """An error event that ends the stream (the store failed): the
        listen request's error, or on a GET an error with a ``null`` id and
        the delay before the client reconnects."""
        error = {"code": jsonrpc.INTERNAL_ERROR, "message": message}
        if self.era == "session":
            data = json.dumps({"jsonrpc": "2.0", "id": None, "error": error})
            return f"retry: {retry_ms}\nevent: message\ndata: {data}\n\n".encode()
        body = json.dumps(error, separators=(",", ":"))
        subscription = self.values["subscriptionId"]
        data = '{"jsonrpc":"2.0","id":' + subscription + ',"error":' + body + "}"
        return f"event: message\ndata: {data}\n\n".encode()

    def wants(self, change: Change) -> bool:
        return not self.channels.isdisjoint(change.channels())

    def replay(self, changes: t.Iterable[tuple[int, Change]]) -> bytes:
        """The events of the changes this stream wants (controls left out)."""
        return b"".join(
            self.event(position, change)
            for position, change in changes
            if change.method != REOPEN and self.wants(change)
        )


def session_event(position: int, change: Change) -> bytes:
    """A change on a 2025 GET stream: its id is the bus position."""
    message = jsonrpc.notification_message(change.method, change.params)
    return format_event(message, f"{STANDALONE}.{position}")


def listen_event(change: Change, subscription: str) -> bytes:
    """A change on a listen stream, tagged with the subscription id.

    :param subscription: the id as JSON text (``5``, ``"listen-1"``), or
        :data:`SLOT` for a gateway's template.
    """
    params = {k: v for k, v in change.params.items() if k != "_meta"}
    inner = json.dumps(params, separators=(",", ":"))
    meta = '"_meta":{' + json.dumps(META_SUBSCRIPTION) + ":" + subscription + "}"
    inner = inner[:-1] + ("," if params else "") + meta + "}"
    data = (
        '{"jsonrpc":"2.0","method":'
        + json.dumps(change.method)
        + ',"params":'
        + inner
        + "}"
    )
    return f"event: message\ndata: {data}\n\n".encode()


def listen_end(subscription: str) -> bytes:
    """The graceful end of a listen stream: the listen request's result.

    :param subscription: the id as JSON text, or :data:`SLOT`.
    """
    meta = "{" + json.dumps(META_SUBSCRIPTION) + ":" + subscription + "}"
    data = (
        '{"jsonrpc":"2.0","id":'
        + subscription
        + ',"result":{"resultType":"complete","_meta":'
        + meta
        + "}}"
    )
    return f"event: message\ndata: {data}\n\n".encode()


class Holder(t.Protocol):
    """Serves held streams: in the worker, or through a stream gateway."""

    def hold(
        self,
        stream: HeldStream,
        environ: t.Mapping[str, t.Any],
        on_end: t.Callable[[int, t.Any], None] | None = None,
    ) -> Response:
        """The HTTP answer that holds ``stream`` open.

        :param environ: the WSGI environ of the request (its socket, for a
            holder that watches for a client that left).
        :param on_end: called with the last position delivered and why the
            stream ended, by a holder that sees it end (the worker's).
        """
