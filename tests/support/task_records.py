"""Task records for tests that need one without running a task."""

from __future__ import annotations

import typing as t

from flask_mcp.protocol.tasking.record import TaskRecord


def task_record(**changes: t.Any) -> TaskRecord:
    """A working 2026-07-28 task ``t1`` of the tool ``job``; ``changes``
    replace any field."""
    fields: dict[str, t.Any] = {
        "id": "t1",
        "version": "2026-07-28",
        "principal": None,
        "session": None,
        "tool": "job",
        "arguments": {},
        "created": 1_785_234_600.25,
        "updated": 1_785_234_601.5,
        "ttl_ms": 60_000,
        "poll_ms": 500,
    }
    return TaskRecord(**{**fields, **changes})
