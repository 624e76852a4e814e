"""Where a request message meets auth and the protocol server.

Both protocol paths (:mod:`.legacy`, :mod:`.modern`) are handed one
:class:`Exchange`, their only way to authenticate a caller and to execute a
request, as the python-sdk's 2026-07-28 handler is entered through one
function handed what it needs. :meth:`Exchange.run` is the single place
where a request message is executed: it announces every execution to
:mod:`flask_mcp.signals` (metrics, traces, audit) and checks it against the
rate limits.
"""

from __future__ import annotations

import logging
import typing as t

from flask import g
from werkzeug.wrappers import Request

from .._check_policy import required_scopes
from ..auth.errors import AuthError
from ..auth.errors import Forbidden
from ..protocol import jsonrpc
from ..protocol.call import Call
from ..protocol.context import Cancelled
from ..protocol.jsonrpc import JsonRpcError
from ..protocol.jsonrpc import Request as RpcRequest
from ..protocol.server import McpServer
from ..protocol.tasking import TooManyTasks
from ..store import StoreUnavailable
from . import operations
from .guard import AuthGate
from .guard import Refusal
from .operations import CANCELLED
from .responses import HTTPError
from .responses import too_many_requests
from .responses import unavailable

log = logging.getLogger(__name__)

#: Server-defined code of refused credentials (HTTP 401/403 carry the
#: detail; inside a 2025-03-26 batch, where no status can, the item's error).
AUTH_ERROR = -32000


class MessageLimiter(t.Protocol):
    """Rate limits of request messages, applied by :meth:`Exchange.run`."""

    def check(self, request: Request, message: RpcRequest, call: Call) -> None:
        """Let the message run, or raise :class:`HTTPError` (429)."""


class Exchange:
    """Authenticates callers and executes their request messages."""

    def __init__(self, server: McpServer, gate: AuthGate) -> None:
        self.server = server
        self.gate = gate
        #: Checks each request message against rate limits before it runs
        #: (:class:`flask_mcp.ops.rate_limits.RateLimits`); ``None``: none.
        self.limiter: MessageLimiter | None = None

    def authenticate(self, request: Request, request_id: t.Any = None) -> t.Any:
        """Run ``authenticate``; a refusal becomes 401/403 with a challenge."""
        try:
            auth = self.gate.authenticate(request)
        except Refusal as refusal:
            raise self.refusal(refusal, request, request_id) from None
        g.mcp_auth = auth
        return auth

    def refusal(
        self, refusal: Refusal, request: Request, request_id: t.Any
    ) -> HTTPError:
        error = refusal.error
        operations.auth_refused(error, request, None, request_id)
        message = error.description or (
            "Unauthorized" if error.status_code == 401 else "Forbidden"
        )
        return HTTPError(
            error.status_code,
            AUTH_ERROR,
            message,
            request_id,
            self.gate.challenge_headers(refusal, request),
            self.gate.user_response(refusal, request),
        )

    def check_step_up(self, request: Request, message: RpcRequest, auth: t.Any) -> None:
        """A listed tool the caller lacks scopes for answers 403 insufficient_scope."""
        try:
            self.step_up(message, auth)
        except AuthError as exc:
            refusal = self.gate.refuse(request, exc)
            raise self.refusal(refusal, request, message.id) from None

    def step_up(self, message: RpcRequest, auth: t.Any) -> None:
        """:raises Forbidden: a ``tools/call`` of a step-up tool the caller's
        scopes do not reach."""
        if message.method != "tools/call":
            return
        name = message.params.get("name")
        tool = self.server.registry.tools.get(name) if isinstance(name, str) else None
        if tool is not None and tool.step_up and not tool.allows(auth):
            scopes = required_scopes(tool.can_access)
            raise Forbidden(f"tool {tool.name} needs more scopes", scopes=scopes)

    def run(
        self, request: Request, message: RpcRequest, call: Call
    ) -> dict[str, t.Any]:
        """The response message of one request; errors become error messages.

        The single point where a request message is executed: it is
        announced to :mod:`flask_mcp.signals` and checked against the rate
        limits here.

        :raises HTTPError: when a handler refused the caller
            (``get_auth_session(None)``): a 401 or 403 with a challenge; 429
            over a rate limit or the cap on active tasks; 503 when the store
            failed.
        """
        operation = operations.started(request, message, call, self.server.registry)
        try:
            if self.limiter is not None:
                self.limiter.check(request, message, call)
            answer = self._execute(request, message, call)
        except BaseException as exc:
            operations.raised(operation, exc)
            raise
        operations.answered(operation, answer)
        return answer

    def _execute(
        self, request: Request, message: RpcRequest, call: Call
    ) -> dict[str, t.Any]:
        try:
            return jsonrpc.result_message(message.id, self.server.handle(message, call))
        except AuthError as exc:
            refusal = self.gate.refuse(request, exc)
            raise self.refusal(refusal, request, message.id) from None
        except StoreUnavailable:
            raise unavailable(message.id) from None
        except TooManyTasks as exc:  # a limit, answered as every limit is
            raise too_many_requests(exc.retry_after, str(exc), message.id) from None
        except JsonRpcError as exc:
            log.info("MCP %s refused (%s): %s", message.method, exc.code, exc.message)
            return jsonrpc.error_message(message.id, exc)
        except Cancelled:
            # The client closed the response: nobody reads this answer, and
            # nothing went wrong on the server.
            log.info("MCP %s %r cancelled by the client", message.method, message.id)
            error = JsonRpcError(jsonrpc.INTERNAL_ERROR, CANCELLED)
            return jsonrpc.error_message(message.id, error)
        except Exception:
            log.exception("MCP method %s failed", message.method)
            error = JsonRpcError(jsonrpc.INTERNAL_ERROR, "Internal error")
            return jsonrpc.error_message(message.id, error)

    def principal(self, auth: t.Any) -> str | None:
        return self.gate.principal(auth)
