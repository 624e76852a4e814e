"""Announce task legs to :mod:`flask_mcp.signals`, as the endpoint announces
its requests: metrics and traces (:mod:`flask_mcp.ops`) receive them.
Nothing is built while no receiver listens.
"""

from __future__ import annotations

import contextlib
import typing as t

from flask import Flask

from .. import signals
from ..protocol.tasking.ports import LegOutcome
from ..protocol.tasking.record import TaskRecord

_STARTED = signals.task_leg_started
_FINISHED = signals.task_leg_finished


class SignalObserver:
    """The :class:`~flask_mcp.protocol.tasking.ports.LegObserver` of a task
    service: sends :data:`~flask_mcp.signals.task_leg_started` and
    :data:`~flask_mcp.signals.task_leg_finished` from ``app``."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    @contextlib.contextmanager
    def leg(self, record: TaskRecord) -> t.Iterator[LegOutcome | None]:
        operation = self._started(record)
        if operation is None:
            yield None
            return
        ended = LegOutcome()
        try:
            yield ended
        except Exception as exc:
            ended.error_message = type(exc).__name__
            raise
        finally:
            operation.finish(ended.outcome, ended.error_code, ended.error_message)
            _FINISHED.send(self.app, operation=operation)

    def _started(self, record: TaskRecord) -> signals.Operation | None:
        """The leg's operation, announced; ``None`` when nobody listens."""
        if not (_FINISHED.receivers or _STARTED.receivers):
            return None
        announce = _STARTED.has_receivers_for(self.app)
        if not (announce or _FINISHED.has_receivers_for(self.app)):
            return None  # others listen, to other apps of this process
        operation = signals.Operation(
            method="tools/call",
            name=record.tool,
            target=record.tool,
            protocol_version=record.version,
            session_id=record.session,
            arguments=record.arguments,
            meta=record.meta,
            sender=self.app,
        )
        if announce:
            _STARTED.send(self.app, operation=operation)
        return operation
