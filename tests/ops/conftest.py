"""Fixtures of the operations tests (issue 18); their helpers are in
``helpers.py``.

* ``metrics_dir``: the one metrics folder of this test process
  (``prometheus_client`` keeps one per process): every in-process app with
  ``MCP_METRICS`` uses it, and tests compare numbers before and after.
* ``read_only_dir``, ``small_disk``: a read-only folder, a full-able tmpfs.
"""

from __future__ import annotations

import os
import signal
import typing as t
from pathlib import Path

import pytest

from support import RedisServer
from support.mounts import read_only_folder
from support.mounts import tiny_tmpfs


@pytest.fixture(scope="session")
def metrics_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flask_mcp.ops import metrics

    # A process writes to one folder: the one another test chose, if any.
    if metrics._folder is not None:
        return Path(metrics._folder)
    return tmp_path_factory.mktemp("metrics")


@pytest.fixture
def read_only_dir(tmp_path: Path) -> t.Iterator[Path]:
    with read_only_folder(tmp_path / "read-only") as path:
        yield path


@pytest.fixture
def small_disk(tmp_path: Path) -> t.Iterator[Path]:
    with tiny_tmpfs(tmp_path / "small") as path:
        yield path


@pytest.fixture
def own_redis() -> t.Iterator[RedisServer]:
    """A Redis of the test's own, to stop or freeze (thawed at the end: a
    frozen server would ignore SIGTERM)."""
    server = RedisServer()
    with server:
        try:
            yield server
        finally:
            if server.pid is not None:
                os.kill(server.pid, signal.SIGCONT)
