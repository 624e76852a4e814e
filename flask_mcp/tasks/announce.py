"""Task status changes, told to the clients that wait for them.

A change goes on the notification bus twice at most: as
``notifications/tasks`` (2026-07-28) on the task's own channel, which the
listen streams that asked for its id (and were allowed to: its principal's)
follow, and as ``notifications/tasks/status`` (2025-11-25) to the session
that created it. Polling (``tasks/get``) stays the source of truth: these
are hints, and a failure to announce never fails the change.
"""

from __future__ import annotations

import json
import logging
import typing as t

from ..protocol.tasking import wire
from ..protocol.tasking.ports import Outcome
from ..protocol.tasking.record import TaskRecord
from ..protocol.versions import has_legacy_tasks
from ..transport.bus import Change
from ..transport.bus import NotificationBus
from ..transport.bus import task_channel

log = logging.getLogger(__name__)

#: Largest notification put on the bus, in bytes of JSON: every listening
#: stream reads every entry, so a large result is left to ``tasks/get``.
MAX_NOTIFICATION = 64 * 1024


class BusAnnouncer:
    """A :class:`~flask_mcp.protocol.tasking.ports.TaskEvents` over the bus.

    :param bus: gives the endpoint's bus (built after the tasks).
    """

    def __init__(self, bus: t.Callable[[], NotificationBus]) -> None:
        self.bus = bus

    def changed(self, record: TaskRecord, outcome: Outcome | None) -> None:
        bus = self.bus()
        detailed = wire.detailed(record, outcome)
        if len(json.dumps(detailed, separators=(",", ":"))) <= MAX_NOTIFICATION:
            bus.publish(
                Change(wire.NOTIFICATION, detailed, channel=task_channel(record.id))
            )
        else:
            log.debug("task %s: notification too large; left to polling", record.id)
        if record.session is not None and has_legacy_tasks(record.version):
            bus.publish(
                Change(
                    wire.LEGACY_NOTIFICATION,
                    wire.legacy_task(record),
                    session=record.session,
                )
            )
