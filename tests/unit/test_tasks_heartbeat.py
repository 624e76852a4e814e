"""The heartbeat keeps a lease however short ``MCP_TASKS_LEASE`` is (its
minimum is half a second), over the real file store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flask_mcp.store import create_store
from flask_mcp.tasks import StoreTasks
from flask_mcp.tasks.heartbeat import Heartbeat


def tasks(tmp_path: Path, lease: float) -> StoreTasks:
    return StoreTasks(create_store(None, str(tmp_path), "beat"), lease=lease)


@pytest.mark.parametrize(("lease", "interval"), [(0.5, 0.5 / 6), (30.0, 0.5)])
def test_the_beat_is_a_sixth_of_a_short_lease(
    tmp_path: Path, lease: float, interval: float
) -> None:
    assert Heartbeat(tasks(tmp_path, lease)).interval == pytest.approx(interval)


class SlowStoreTasks(StoreTasks):
    """Each renewal takes a tenth of a second, as over a busy network."""

    def hold_lease(self, task_id: str, owner: str) -> None:
        time.sleep(0.1)
        super().hold_lease(task_id, owner)


def test_the_shortest_lease_never_lapses_while_held(tmp_path: Path) -> None:
    store = create_store(None, str(tmp_path), "beat")
    repository = SlowStoreTasks(store, lease=0.5)
    heartbeat = Heartbeat(repository)
    with heartbeat.holding("t1"):
        end = time.monotonic() + 2.5  # five leases
        while time.monotonic() < end:
            assert repository.lease_alive("t1"), "the lease lapsed while held"
            time.sleep(0.01)
    assert not repository.lease_alive("t1")  # dropped on release
