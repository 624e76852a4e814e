"""Announce sign-ins and token events of the proxy to :mod:`flask_mcp.signals`."""

from __future__ import annotations

import typing as t

from blinker import Signal
from flask import current_app
from flask import has_app_context
from flask import has_request_context
from flask import request

from ... import signals


def announce(signal: Signal, **fields: t.Any) -> None:
    """Send ``signal`` with an :class:`~flask_mcp.signals.AuthEvent` of
    ``fields``, from the current app; nothing is built while nobody listens."""
    if not signal.receivers:
        return
    if has_request_context():
        fields.setdefault("client_address", request.remote_addr)
    sender = None
    if has_app_context():
        sender = current_app._get_current_object()  # type: ignore[attr-defined]
    signal.send(sender, event=signals.AuthEvent(**fields))
