"""What a tool, resource or prompt handler can do while it runs.

A handler asks for a :class:`Context` by annotating a parameter with it. The
context talks to the client through a :class:`Channel`, which the transport
provides; handlers never see HTTP.
"""

from __future__ import annotations

import typing as t

from ..components.base import RequestContext
from .jsonrpc import INTERNAL_ERROR
from .jsonrpc import JsonRpcError
from .jsonrpc import RequestId

#: RFC 5424 severities, in the order MCP's ``logging/setLevel`` compares them.
LOG_LEVELS = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)


class Channel(t.Protocol):
    """The way back to the client while one request is being handled."""

    def notify(self, method: str, params: dict[str, t.Any]) -> None:
        """Send a notification related to the current request."""

    def request(
        self, method: str, params: dict[str, t.Any], timeout: float
    ) -> dict[str, t.Any]:
        """Send a request to the client and wait for its answer."""

    def close_stream(self) -> None:
        """End the HTTP response early; later messages wait for a reconnect."""


class ClientError(Exception):
    """The client answered a server-to-client request with an error."""

    def __init__(self, error: dict[str, t.Any]) -> None:
        super().__init__(error.get("message", "client error"))
        self.error = error


class Context(RequestContext):
    """Per-request helpers for handlers: logging, progress, sampling, elicitation.

    :param request_id: the JSON-RPC id of the request being handled.
    :param session_id: the MCP session id, ``None`` without sessions.
    :param auth: the auth session returned by ``authenticate``, if any.
    """

    def __init__(
        self,
        *,
        request_id: RequestId,
        session_id: str | None,
        protocol_version: str,
        channel: Channel,
        meta: t.Mapping[str, t.Any] | None = None,
        log_level: str | None = None,
        client_capabilities: t.Mapping[str, t.Any] | None = None,
        auth: t.Any = None,
        request_timeout: float = 60.0,
    ) -> None:
        self.request_id = request_id
        self.session_id = session_id
        self.protocol_version = protocol_version
        self.auth = auth
        self._channel = channel
        self._meta = meta or {}
        self._log_level = log_level
        self._client_capabilities = client_capabilities or {}
        self._request_timeout = request_timeout

    @property
    def session(self) -> t.Any:
        """The auth session, named as in FastMCP (``execute(args, {session})``)."""
        return self.auth

    @property
    def progress_token(self) -> str | int | None:
        return self._meta.get("progressToken")

    def log(self, level: str, message: t.Any, *, logger: str | None = None) -> None:
        """Send ``notifications/message`` if the client's level lets it through."""
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}")
        if self._log_level is not None and LOG_LEVELS.index(level) < LOG_LEVELS.index(
            self._log_level
        ):
            return
        params: dict[str, t.Any] = {"level": level, "data": message}
        if logger:
            params["logger"] = logger
        self._channel.notify("notifications/message", params)

    def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Send ``notifications/progress``; a no-op when the client asked for none."""
        if self.progress_token is None:
            return
        params: dict[str, t.Any] = {
            "progressToken": self.progress_token,
            "progress": progress,
        }
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        self._channel.notify("notifications/progress", params)

    def sample(
        self,
        messages: str | list[dict[str, t.Any]],
        *,
        max_tokens: int = 512,
        system_prompt: str | None = None,
        **params: t.Any,
    ) -> dict[str, t.Any]:
        """Ask the client's model for a completion (``sampling/createMessage``)."""
        self._require_capability("sampling")
        if isinstance(messages, str):
            messages = [{"role": "user", "content": {"type": "text", "text": messages}}]
        request = {"messages": messages, "maxTokens": max_tokens, **params}
        if system_prompt is not None:
            request["systemPrompt"] = system_prompt
        return self._request("sampling/createMessage", request)

    def elicit(self, message: str, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        """Ask the user for input shaped by ``schema`` (``elicitation/create``)."""
        self._require_capability("elicitation")
        return self._request(
            "elicitation/create", {"message": message, "requestedSchema": schema}
        )

    def close_stream(self) -> None:
        """Let the client poll for the rest of this request (SEP-1699)."""
        self._channel.close_stream()

    def _request(self, method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        return self._channel.request(method, params, self._request_timeout)

    def _require_capability(self, name: str) -> None:
        if name not in self._client_capabilities:
            raise JsonRpcError(
                INTERNAL_ERROR, f"the client did not declare the {name!r} capability"
            )
