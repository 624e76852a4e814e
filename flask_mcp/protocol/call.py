"""What one request is handled with, as the transport describes it."""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass
from dataclasses import field

from ..components.component import Component
from ..components.tools import Tool
from .context import Channel
from .envelope import Envelope


class SessionState(t.Protocol):
    """The per-session facts a legacy method may read or change."""

    log_level: str | None
    client_capabilities: dict[str, t.Any]

    def set_log_level(self, level: str) -> None: ...
    def subscribe(self, uri: str) -> None: ...
    def unsubscribe(self, uri: str) -> None: ...


@dataclass
class Call:
    """Everything one request is handled with, provided by the transport.

    A modern request (2026-07-28) has an :attr:`envelope` and no session; a
    legacy one may have a session and never an envelope.
    """

    protocol_version: str
    channel: Channel
    session_id: str | None = None
    session: SessionState | None = None
    auth: t.Any = None
    #: Hashed identity of the caller, binding MRTR state to it.
    principal: str | None = None
    envelope: Envelope | None = None
    _cancelled: threading.Event | None = field(default=None, repr=False)

    @property
    def cancelled(self) -> threading.Event:
        """Set by the transport when the client goes away (made on first use:
        most calls never stream)."""
        if self._cancelled is None:
            self._cancelled = threading.Event()
        return self._cancelled

    @property
    def modern(self) -> bool:
        return self.envelope is not None

    @property
    def client_capabilities(self) -> dict[str, t.Any]:
        if self.envelope is not None:
            return self.envelope.capabilities
        return self.session.client_capabilities if self.session else {}

    @property
    def log_level(self) -> str | None:
        if self.envelope is not None:
            return self.envelope.log_level
        return self.session.log_level if self.session else None

    def allows(self, component: Component) -> bool:
        """Whether the caller may see ``component``.

        A step-up tool is listed to everyone: calling it without the scopes
        is refused by the transport with 403 and the scopes to ask for.
        """
        if isinstance(component, Tool) and component.step_up:
            return True
        return component.allows(self.auth)
