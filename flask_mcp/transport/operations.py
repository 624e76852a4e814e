"""Announce what the endpoint does to :mod:`flask_mcp.signals`.

The endpoint calls these at its single points: :func:`started` and
:func:`answered`/:func:`raised` around each request message it executes,
:func:`auth_refused` where a refusal becomes a 401/403. Nothing is built
while no receiver listens.
"""

from __future__ import annotations

import functools
import typing as t

from flask import current_app
from werkzeug.wrappers import Request

from .. import signals
from ..components.registry import Registry
from ..protocol.call import Call
from ..protocol.jsonrpc import Request as RpcRequest
from .checks import header
from .responses import HTTPError

#: The message :meth:`Endpoint.run` answers a request the client cancelled with.
CANCELLED = "Request cancelled"
#: Longest name an operation carries (a client may send any string).
_NAME_LIMIT = 256
_NAMED = {"tools/call": "tools", "prompts/get": "prompts"}
_STARTED = signals.operation_started
_FINISHED = signals.operation_finished


def started(
    request: Request, message: RpcRequest, call: Call, registry: Registry
) -> signals.Operation | None:
    """The operation of ``message``, announced; ``None`` when nobody listens."""
    if not (_FINISHED.receivers or _STARTED.receivers):
        return None
    app = _app()
    announce = _STARTED.has_receivers_for(app)
    if not (announce or _FINISHED.has_receivers_for(app)):
        return None  # others listen, to other apps of this process
    params = message.params
    name, target = _names(message.method, params, registry)
    meta = params.get("_meta")
    operation = signals.Operation(
        method=message.method,
        name=name,
        target=target,
        request_id=message.id,
        protocol_version=call.protocol_version,
        session_id=call.session_id,
        arguments=params.get("arguments"),
        meta=meta if isinstance(meta, dict) else {},
        header=functools.partial(header, request.environ),
        auth=call.auth,
        client_address=request.remote_addr,
        sender=app,
    )
    if announce:
        _STARTED.send(app, operation=operation)
    return operation


def answered(operation: signals.Operation | None, answer: dict[str, t.Any]) -> None:
    """End ``operation`` with the response message ``answer``."""
    if operation is None:
        return
    error = answer.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        outcome = "cancelled" if message == CANCELLED else "error"
        operation.finish(outcome, error.get("code"), message)
    elif operation.method == "tools/call" and _is_error(answer.get("result")):
        operation.finish("tool_error", None, "the tool reported an error")
    else:
        operation.finish("ok")
    _FINISHED.send(operation.sender, operation=operation)


def raised(operation: signals.Operation | None, error: BaseException) -> None:
    """End ``operation`` with an exception that ends the HTTP request."""
    if operation is None:
        return
    if isinstance(error, HTTPError):
        outcome = {401: "refused", 403: "refused", 429: "limited", 503: "unavailable"}
        operation.finish(
            outcome.get(error.status, "error"), error.status, error.error.message
        )
    else:
        operation.finish("error", None, type(error).__name__)
    _FINISHED.send(operation.sender, operation=operation)


def auth_refused(
    error: t.Any, request: Request, method: str | None, request_id: t.Any
) -> None:
    """Announce a 401/403 (``error`` is the :class:`~flask_mcp.auth.AuthError`)."""
    if not signals.auth_refused.receivers:
        return
    status = error.status_code
    reason = error.error or ("unauthenticated" if status == 401 else "forbidden")
    refusal = signals.Refusal(
        kind="auth",
        reason=str(reason),
        status=status,
        method=method,
        client_address=request.remote_addr,
        request_id=request_id if isinstance(request_id, (str, int)) else None,
        path=request.path,
    )
    signals.auth_refused.send(_app(), refusal=refusal)


def _names(
    method: str, params: t.Mapping[str, t.Any], registry: Registry
) -> tuple[str | None, str]:
    """The name the client asked for, and the one metrics may use."""
    kind = _NAMED.get(method)
    if kind is not None:
        name = params.get("name")
        if not isinstance(name, str):
            return None, ""
        table: t.Mapping[str, t.Any] = getattr(registry, kind)
        return name[:_NAME_LIMIT], name if name in table else ""
    if method in ("resources/read", "resources/subscribe", "resources/unsubscribe"):
        uri = params.get("uri")
        if not isinstance(uri, str):
            return None, ""
        if uri in registry.resources:
            return uri[:_NAME_LIMIT], uri
        found = registry.find_template(uri)
        return uri[:_NAME_LIMIT], found[0].uri if found else ""
    return None, ""


def _is_error(result: t.Any) -> bool:
    return isinstance(result, dict) and result.get("isError") is True


def _app() -> t.Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]
