"""The audit trail: one JSON line per tool call, resource read, prompt,
sign-in, token event and refusal, on the logger ``flask_mcp.audit``.

Every line has every field of :data:`FIELDS` (``null`` when it does not
apply), so the lines load into a table as they are. Argument values are
written only with ``MCP_AUDIT_ARGUMENTS``; otherwise their SHA-256 digest
(of the arguments as canonical JSON: sorted keys, no spaces, UTF-8) lets an
operator tell calls apart and check a claim about one without the log
holding what users sent.

Where the lines go is the logging configuration's business: attach a
handler to ``flask_mcp.audit`` (a file, stderr, a log shipper) with the
format ``%(message)s``. The logger is named for the trail, not for this
module: its name is part of the documented interface.
"""

from __future__ import annotations

import logging
import re
import time
import typing as t

from flask import has_request_context
from flask import request

from .. import signals
from .audit_line import AuditLine
from .audit_line import RecordMaker
from .principals import describe
from .receivers import connect
from .receivers import guarded

if t.TYPE_CHECKING:
    from flask import Flask


#: The audit trail's logger.
AUDIT_LOGGER = "flask_mcp.audit"
#: Every field of an audit line, in order (see the operations guide).
FIELDS = (
    "time",
    "event",
    "outcome",
    "principal_source",
    "principal_subject",
    "client_id",
    "method",
    "name",
    "arguments_sha256",
    "arguments",
    "error_code",
    "reason",
    "duration_ms",
    "request_id",
    "session_id",
    "trace_id",
    "grant_id",
    "client_address",
)
#: The operations the trail records (lists and pings are not).
AUDITED_METHODS = frozenset({"tools/call", "resources/read", "prompts/get"})
#: Outcomes whose line is the refusal's (one line per event).
_REFUSED = frozenset({"refused", "limited"})

_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")

log = logging.getLogger(AUDIT_LOGGER)


_record = RecordMaker(log, __file__)


class AuditTrail:
    """Writes the audit lines of one app's servers.

    :param arguments: write argument values too.
    :param trace_id: the current trace's id, when tracing is on.
    """

    def __init__(
        self,
        app: Flask,
        *,
        arguments: bool = False,
        trace_id: t.Callable[[], str | None] | None = None,
    ) -> None:
        self.arguments = arguments
        self.trace_id = trace_id or (lambda: None)
        connect(
            app,
            {
                signals.operation_finished: self.operation_finished,
                signals.auth_refused: self.refused,
                signals.limit_refused: self.refused,
                signals.signed_in: self.auth_event("sign_in"),
                signals.token_issued: self.auth_event("token_issued"),
                signals.token_refreshed: self.auth_event("token_refreshed"),
                signals.token_revoked: self.auth_event("token_revoked"),
            },
        )

    @guarded
    def operation_finished(self, sender: t.Any, operation: signals.Operation) -> None:
        if (
            operation.method not in AUDITED_METHODS
            or operation.outcome in _REFUSED
            or not log.isEnabledFor(logging.INFO)
        ):
            return  # a refused operation has its refusal's line
        principal = describe(operation.auth)
        arguments = operation.arguments
        # The hot path (a line per call): the line built in FIELDS order.
        _emit(
            {
                "time": time.time(),  # written out with the text
                "event": operation.method,
                "outcome": operation.outcome,
                "principal_source": principal.source,
                "principal_subject": principal.subject,
                "client_id": principal.client_id,
                "method": operation.method,
                "name": operation.name,
                "arguments_sha256": None,  # made with the text
                "arguments": arguments if self.arguments else None,
                "error_code": operation.error_code,
                "reason": None,
                "duration_ms": round(operation.duration * 1000, 3),
                "request_id": operation.request_id,
                "session_id": operation.session_id,
                "trace_id": operation.scratch.get("trace_id")
                or _caller_trace(operation),
                "grant_id": None,
                "client_address": operation.client_address,
            },
            arguments,
        )

    @guarded
    def refused(self, sender: t.Any, refusal: signals.Refusal) -> None:
        principal = describe(refusal.auth)
        self.write(
            event=f"{refusal.kind}_refused",
            outcome="refused" if refusal.kind == "auth" else "limited",
            principal_source=principal.source,
            principal_subject=principal.subject,
            client_id=principal.client_id,
            method=refusal.method,
            name=refusal.name,
            error_code=refusal.status,
            reason=refusal.reason,
            request_id=refusal.request_id,
            client_address=refusal.client_address,
        )

    def auth_event(self, name: str) -> t.Callable[..., None]:
        """The receiver of one sign-in or token signal, written as ``name``."""

        @guarded
        def write(sender: t.Any, event: signals.AuthEvent) -> None:
            self.write(
                event=name,
                outcome=event.outcome,
                principal_source=event.provider,
                principal_subject=event.subject,
                client_id=event.client_id,
                reason=event.reason,
                grant_id=event.grant_id,
                client_address=event.client_address,
            )

        return write

    def write(self, **fields: t.Any) -> None:
        """One line of an event outside an operation (a refusal, a sign-in):
        every field of :data:`FIELDS`, in order, with the current trace."""
        if not log.isEnabledFor(logging.INFO):
            return
        line = {name: fields.get(name) for name in FIELDS}
        line["time"] = time.time()
        line["trace_id"] = self.trace_id() or _request_trace()
        _emit(line)


def _emit(fields: dict[str, t.Any], arguments: t.Any = None) -> None:
    """Log one line. The record is made directly: looking up the caller's
    frame (what ``log.info`` does first) would name this module anyway."""
    log.handle(_record(AuditLine(fields, arguments)))


def _caller_trace(operation: signals.Operation) -> str | None:
    """The trace id the client sent (``_meta``, else the HTTP header)."""
    parent = operation.meta.get("traceparent")
    if parent is None and operation.header is not None:
        parent = operation.header("traceparent")
    return _trace_of(parent)


def _request_trace() -> str | None:
    """The trace id of the current HTTP request's ``traceparent``, if any."""
    if not has_request_context():
        return None
    return _trace_of(request.headers.get("traceparent"))


def _trace_of(parent: t.Any) -> str | None:
    if isinstance(parent, str):
        match = _TRACEPARENT.fullmatch(parent.strip())
        if match:
            return match.group(1)
    return None
