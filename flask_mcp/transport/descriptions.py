"""The held streams of both eras, described for a holder (see :mod:`.holds`).

A 2025 session's GET stream follows every list kind, the resources the
session subscribed to and the session itself; it resumes from
``Last-Event-ID`` (a bus position). A 2026-07-28 listen follows exactly
what its filter asked for and the server granted (what is sent to one
principal only where a filter key asks for it: the tasks extension's).
"""

from __future__ import annotations

import dataclasses
import json
import typing as t

from ..protocol import jsonrpc
from ..protocol.envelope import META_SUBSCRIPTION
from .bus import LIST_CHANGED
from .bus import NotificationBus
from .bus import list_channel
from .bus import resource_channel
from .bus import session_channel
from .bus import task_channel
from .events import STANDALONE
from .events import format_event
from .holds import HeldStream
from .sessions import Session

#: ``subscriptions/listen`` filter keys of the list-changed notifications.
LIST_FILTERS = {
    "toolsListChanged": "tools",
    "promptsListChanged": "prompts",
    "resourcesListChanged": "resources",
}


def session_stream(
    session: Session,
    bus: NotificationBus,
    after: int | None,
    *,
    newest: int,
    retry_ms: int,
    client: str | None = None,
) -> HeldStream:
    """A session's GET stream: a priming event, then what the client missed
    since ``after`` (its ``Last-Event-ID``; ``None`` for a fresh stream).

    :param newest: the bus position read *before* ``session`` was loaded,
        so a change of its subscriptions after the load (announced by a
        :data:`~.bus.REOPEN` after ``newest``) reaches the stream.
    :raises StoreUnavailable: the bus cannot be read.
    """
    channels = {list_channel(kind) for kind in LIST_CHANGED}
    channels.add(session_channel(session.id))
    channels |= {resource_channel(uri) for uri in session.subscriptions}
    start = newest if after is None else min(after, newest)
    stream = HeldStream(
        era="session",
        head=b"",
        after=newest,
        channels=frozenset(channels),
        principal=session.principal,
        client=client,
        retry_ms=retry_ms,
    )
    head = format_event(None, f"{STANDALONE}.{start}", retry_ms)
    head += stream.replay(bus.changes(start, newest))
    return dataclasses.replace(stream, head=head)


def listen_channels(
    kinds: t.Iterable[str], uris: t.Iterable[str], tasks: t.Iterable[str] = ()
) -> frozenset[str]:
    """What a listen follows: the list kinds, resource URIs and tasks it
    asked for (and was granted)."""
    channels = {list_channel(kind) for kind in kinds}
    channels |= {resource_channel(uri) for uri in uris}
    channels |= {task_channel(task) for task in tasks}
    return frozenset(channels)


def listen_stream(
    request_id: jsonrpc.RequestId,
    channels: frozenset[str],
    honoured: dict[str, t.Any],
    bus: NotificationBus,
    *,
    principal: str | None = None,
    client: str | None = None,
    after: int | None = None,
) -> HeldStream:
    """A listen stream: the acknowledgement, then the changes asked for.

    :param channels: what the filter asked for (:func:`listen_channels`).
    :param honoured: the filter as granted, for the acknowledgement.
    :param after: replay the changes after this position (a listen that
        picks up where an earlier one ended).
    """
    newest = bus.position()
    subscription = json.dumps(request_id)
    stream = HeldStream(
        era="listen",
        head=b"",
        after=newest,
        channels=channels,
        values={"subscriptionId": subscription},
        principal=principal,
        client=client,
        request_id=request_id,
    )
    ack = {"_meta": {META_SUBSCRIPTION: request_id}, "notifications": honoured}
    head = [
        format_event(
            jsonrpc.notification_message(
                "notifications/subscriptions/acknowledged", ack
            )
        )
    ]
    if after is not None and after < newest:
        head.append(stream.replay(bus.changes(after, newest)))
    return dataclasses.replace(stream, head=b"".join(head))
