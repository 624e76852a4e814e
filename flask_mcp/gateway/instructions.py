"""GRIP instructions: the response that hands a stream to the gateway.

The gateway sends the body to the client, keeps the connection, and from
then on appends what is published on the channels the headers name
(Pushpin strips every ``Grip-*`` header before the client sees the
response). Documented at https://pushpin.org/docs/protocols/grip/.
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

from ..transport.responses import SSE

#: Seconds of quiet after which the gateway sends an SSE comment, so that
#: proxies and clients see a live connection.
KEEPALIVE = 20


@dataclass(frozen=True)
class Subscription:
    """One ``Grip-Channel`` entry."""

    name: str
    prev_id: str | None = None
    filters: tuple[str, ...] = ()

    def header(self) -> str:
        value = self.name
        if self.prev_id is not None:
            value += f"; prev-id={self.prev_id}"
        for name in self.filters:
            value += f"; filter={name}"
        return value


def hold_response(
    body: bytes,
    subscriptions: list[Subscription],
    *,
    next_link: str,
    refresh: int,
    meta: str | None = None,
) -> Response:
    """A response that holds the stream at the gateway.

    :param body: what the client gets first.
    :param next_link: where the gateway asks for the stream's next part
        (after ``refresh`` seconds, after a gap in a chain, after a ``hint``).
    :param meta: the ``Grip-Set-Meta`` value (the listen's subscription id).
    """
    headers = Headers(
        {
            "Cache-Control": "no-cache",
            "Grip-Hold": "stream",
            "Grip-Keep-Alive": (
                f": keep-alive\\n\\n; format=cstring; timeout={KEEPALIVE}"
            ),
            "Grip-Link": f"<{next_link}>; rel=next; timeout={refresh}",
        }
    )
    for subscription in subscriptions:
        headers.add("Grip-Channel", subscription.header())
    if meta is not None:
        headers.add("Grip-Set-Meta", meta)
    return Response(body, mimetype=SSE, headers=headers)


def end_response(body: bytes) -> Response:
    """The stream's last part: the gateway sends ``body`` and closes."""
    return Response(body, mimetype=SSE, headers={"Cache-Control": "no-cache"})
