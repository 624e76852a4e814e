"""The holder that hands streams to the gateway when it can.

A stream is held at the gateway only when all of these hold; otherwise the
worker's holder serves it, exactly as without a gateway:

* the request carries a valid ``Grip-Sig`` (it came through the gateway;
  a client talking to a worker directly, or forging the header, cannot get
  GRIP instructions it would have to interpret itself);
* this worker's last publication reached the gateway (while it cannot,
  streams held there would wait for notifications);
* the stream fits (:meth:`GripGateway.can_hold
  <flask_mcp.gateway.held.GripGateway.can_hold>`).
"""

from __future__ import annotations

import logging
import typing as t

from werkzeug.wrappers import Response

from ..transport.holds import HeldStream
from ..transport.holds import Holder
from .held import GripGateway
from .publisher import Publisher

log = logging.getLogger(__name__)


class GatewayHolder:
    """A :class:`~flask_mcp.transport.holds.Holder`: the gateway, else
    ``fallback`` (the worker's holder)."""

    def __init__(
        self, gateway: GripGateway, publisher: Publisher, fallback: Holder
    ) -> None:
        self.gateway = gateway
        self.publisher = publisher
        self.fallback = fallback

    def hold(
        self,
        stream: HeldStream,
        environ: t.Mapping[str, t.Any],
        on_end: t.Callable[[int, t.Any], None] | None = None,
    ) -> Response:
        """Hold ``stream`` at the gateway, else in the worker.

        :param on_end: passed to the worker's holder; a stream held at the
            gateway ends elsewhere (:class:`~.held.GripGateway` keeps a
            listen's end position when its hold is over).
        """
        if not self.gateway.signed(environ):
            if environ.get("HTTP_GRIP_SIG"):
                log.info("MCP stream held by the worker: Grip-Sig not valid")
            return self.fallback.hold(stream, environ, on_end)
        if self.publisher.reachable and self.gateway.can_hold(stream):
            return self.gateway.hold(stream)
        return self.fallback.hold(stream, environ, on_end)
