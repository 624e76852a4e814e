"""The ``MCP_TASKS_*`` settings, read and checked once at ``init_app``."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ..config import read_number
from ..protocol.tasking.lifecycle import TaskPolicy


@dataclass(frozen=True)
class TaskSettings:
    """How this server runs tasks."""

    policy: TaskPolicy
    celery: t.Any
    celery_queue: str | None
    executor: t.Any
    threads: int
    visibility_timeout: float
    #: Active tasks per principal (``0``: no cap).
    per_principal: int = 32

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> TaskSettings:
        """:raises ValueError: naming the key whose value cannot be used."""

        def number(key: str, kind: type[int] | type[float], minimum: float) -> t.Any:
            return read_number(config, key, kind, minimum)

        ttl = number("MCP_TASKS_TTL", float, 1)
        max_ttl = number("MCP_TASKS_MAX_TTL", float, 1)
        lease = number("MCP_TASKS_LEASE", float, 0.5)
        visibility = number("MCP_TASKS_VISIBILITY_TIMEOUT", float, 1)
        if visibility < lease:
            raise ValueError(
                "MCP_TASKS_VISIBILITY_TIMEOUT must be at least MCP_TASKS_LEASE"
            )
        return cls(
            policy=TaskPolicy(
                ttl_ms=int(ttl * 1000),
                max_ttl_ms=int(max(ttl, max_ttl) * 1000),
                poll_ms=number("MCP_TASKS_POLL_INTERVAL_MS", int, 1),
                lease=lease,
                max_result=number("MCP_TASKS_MAX_RESULT", int, 1),
            ),
            celery=config.get("MCP_TASKS_CELERY"),
            celery_queue=config.get("MCP_TASKS_CELERY_QUEUE"),
            executor=config.get("MCP_TASKS_EXECUTOR"),
            threads=number("MCP_TASKS_THREADS", int, 1),
            visibility_timeout=visibility,
            per_principal=number("MCP_TASKS_PER_PRINCIPAL", int, 0),
        )
