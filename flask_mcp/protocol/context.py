"""What a tool, resource or prompt handler can do while it runs.

A handler asks for a :class:`Context` by annotating a parameter with it. The
context talks to the client through a :class:`Channel`, which the transport
provides; handlers never see HTTP. The same handler serves both protocol
eras: on a legacy session a question (:meth:`Context.elicit`, ...) is a live
request to the client; on a modern request it is answered from the retry's
``inputResponses`` or ends this run with ``input_required`` (see
:mod:`flask_mcp.protocol.inputs`). Write such handlers so that running them
again is harmless: ask every question before the first side effect.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import typing as t
from collections import abc

from ..components.component import RequestContext
from ..errors import FlaskMCPError
from .inputs import AnswerBook
from .inputs import InputRequest
from .inputs import InputRequired
from .inputs import declares
from .inputs import elicitation
from .inputs import required_capability
from .inputs import roots
from .inputs import sampling
from .inputs import url_elicitation
from .jsonrpc import MISSING_CLIENT_CAPABILITY
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
        """Send a request to the client and wait for its answer (legacy only)."""

    def close_stream(self) -> None:
        """End the HTTP response early; later messages wait for a reconnect."""


class ClientError(FlaskMCPError):
    """The client answered a server-to-client request with an error."""

    def __init__(self, error: dict[str, t.Any]) -> None:
        super().__init__(error.get("message", "client error"))
        self.error = error


class ClientTimeout(FlaskMCPError):
    """The client did not answer a server-to-client request in time."""

    def __init__(self, method: str, timeout: float) -> None:
        super().__init__(f"the client did not answer {method} within {timeout:g} s")
        self.method = method


class Cancelled(FlaskMCPError):
    """The client went away: the request was cancelled (closing the stream)."""


class Context(RequestContext):
    """Per-request helpers for handlers: logging, progress and questions.

    :param request_id: the JSON-RPC id of the request being handled.
    :param session_id: the MCP session id, ``None`` without sessions.
    :param auth: the auth session returned by ``authenticate``, if any.
    :param answers: on a modern request, where the answers come from.
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
        answers: AnswerBook | None = None,
        cancelled: threading.Event | None = None,
    ) -> None:
        self.request_id = request_id
        self.session_id = session_id
        self.protocol_version = protocol_version
        self.auth = auth
        self._channel = channel
        # ``_meta`` comes from the client: anything but an object is ignored.
        self._meta = meta if isinstance(meta, t.Mapping) else {}
        self._log_level = log_level
        self._client_capabilities = dict(client_capabilities or {})
        self._request_timeout = request_timeout
        self._answers = answers
        self._cancelled = cancelled or threading.Event()
        self._numbers = itertools.count(1)
        self._state: dict[str, t.Any] = answers.state if answers else {}

    @property
    def session(self) -> t.Any:
        """The auth session, named as in FastMCP (``execute(args, {session})``)."""
        return self.auth

    @property
    def modern(self) -> bool:
        """Whether this request is served per request (2026-07-28)."""
        return self._answers is not None

    @property
    def state(self) -> dict[str, t.Any]:
        """Values kept across the rounds of one modern request (JSON only;
        signed, not encrypted). A plain dict for one run on a legacy session."""
        return self._state

    @property
    def progress_token(self) -> str | int | None:
        return self._meta.get("progressToken")

    @property
    def cancelled(self) -> bool:
        """Whether the client closed the response: stop working when it has."""
        return self._cancelled.is_set()

    def supports(self, capability: str | abc.Mapping[str, t.Any]) -> bool:
        """Whether the client declared ``capability`` (``"sampling"`` or a
        fragment such as ``{"elicitation": {"url": {}}}``) on this request."""
        needed = {capability: {}} if isinstance(capability, str) else capability
        return declares(self._client_capabilities, needed)

    # -- notifications -----------------------------------------------------

    def log(self, level: str, message: t.Any, *, logger: str | None = None) -> None:
        """Send ``notifications/message`` if the client's level lets it through.

        A modern request gets log messages only when its ``_meta`` asked for
        a level; a legacy session after ``logging/setLevel``, or always.
        """
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}")
        if self._log_level is None and self.modern:
            return
        if self._log_level is not None and LOG_LEVELS.index(level) < LOG_LEVELS.index(
            self._log_level
        ):
            return
        params: dict[str, t.Any] = {"level": level, "data": message}
        if logger:
            params["logger"] = logger
        self._notify("notifications/message", params)

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
        self._notify("notifications/progress", params)

    def close_stream(self) -> None:
        """Let the client poll for the rest of this request (SEP-1699, legacy)."""
        self._channel.close_stream()

    def _notify(self, method: str, params: dict[str, t.Any]) -> None:
        if self.cancelled:
            raise Cancelled()
        self._channel.notify(method, params)

    # -- questions ---------------------------------------------------------

    def elicit(
        self, message: str, schema: abc.Mapping[str, t.Any], *, key: str | None = None
    ) -> dict[str, t.Any]:
        """Ask the user for input shaped by ``schema``; the ``ElicitResult``
        (``action`` and, when accepted, ``content``)."""
        return self._ask_one(key, elicitation(message, schema))

    def elicit_url(
        self,
        message: str,
        url: str,
        *,
        key: str | None = None,
        elicitation_id: str | None = None,
    ) -> dict[str, t.Any]:
        """Send the user to ``url`` (credentials, payments, third-party
        consent); the ``ElicitResult`` says whether they agreed to go.

        On a 2025-11-25 session the request carries ``elicitation_id`` (one
        is made if not given): put it in ``url`` and call
        :meth:`FlaskMCP.notify_elicitation_complete
        <flask_mcp.FlaskMCP.notify_elicitation_complete>` with it and
        ``ctx.session_id`` when the interaction is done. On 2026-07-28 the
        client learns the outcome by retrying the call instead.
        """
        request = url_elicitation(message, url)
        if elicitation_id is not None and not self.modern:
            request = InputRequest(
                request.method, {"elicitationId": elicitation_id, **request.params}
            )
        return self._ask_one(key, request)

    def sample(
        self,
        messages: str | list[dict[str, t.Any]],
        *,
        max_tokens: int = 512,
        system_prompt: str | None = None,
        key: str | None = None,
        **params: t.Any,
    ) -> dict[str, t.Any]:
        """Ask the client's model for a completion (``CreateMessageResult``)."""
        request = sampling(
            messages, max_tokens=max_tokens, system_prompt=system_prompt, **params
        )
        return self._ask_one(key, request)

    def list_roots(self, *, key: str | None = None) -> list[dict[str, t.Any]]:
        """The client's roots (``uri`` and ``name`` of each)."""
        result = self._ask_one(key, roots())
        found = result.get("roots")
        return list(found) if isinstance(found, list) else []

    def ask(
        self, requests: abc.Mapping[str, InputRequest]
    ) -> dict[str, dict[str, t.Any]]:
        """Ask several questions at once (one round trip on a modern request).

        Build them with :func:`~flask_mcp.protocol.inputs.elicitation`,
        :func:`~flask_mcp.protocol.inputs.sampling` and
        :func:`~flask_mcp.protocol.inputs.roots`.
        """
        for request in requests.values():
            self._require(request)
        if self._answers is None:
            return {key: self._live(request) for key, request in requests.items()}
        found = {
            key: self._answers.lookup(key, request) for key, request in requests.items()
        }
        missing = {
            key: requests[key] for key, answer in found.items() if answer is None
        }
        if missing:
            raise InputRequired(missing)
        return t.cast(dict[str, dict[str, t.Any]], found)

    def request_state(self, open_questions: dict[str, InputRequest]) -> str:
        """The sealed ``requestState`` to send with these open questions."""
        if self._answers is None:
            raise RuntimeError("requestState exists on modern requests only")
        return self._answers.request_state(open_questions)

    def _ask_one(self, key: str | None, request: InputRequest) -> dict[str, t.Any]:
        chosen = key or f"{request.method.partition('/')[0]}_{next(self._numbers)}"
        return self.ask({chosen: request})[chosen]

    def _require(self, request: InputRequest) -> None:
        needed = required_capability(request)
        if not declares(self._client_capabilities, needed):
            raise JsonRpcError(
                MISSING_CLIENT_CAPABILITY,
                f"{request.method} needs the client capability {needed}",
                {"requiredCapabilities": needed},
            )

    def _live(self, request: InputRequest) -> dict[str, t.Any]:
        if self.cancelled:
            raise Cancelled()
        params = request.params
        if params.get("mode") == "url" and "elicitationId" not in params:
            # 2025-11-25 correlates a URL elicitation by id; modern by retry.
            params = {"elicitationId": secrets.token_urlsafe(12), **params}
        return self._channel.request(request.method, params, self._request_timeout)
