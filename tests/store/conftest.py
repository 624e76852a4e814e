"""Fixtures for the store tests: every backend, a private Redis to break,
and small or read-only disks (tests run as root, so ``chmod`` cannot make a
folder unwritable: a real read-only mount or a full tmpfs does)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import typing as t
from pathlib import Path

import pytest

from flask_mcp.store import Store
from flask_mcp.store import create_store
from support import GunicornServer
from support import RedisServer
from support.redis_topologies import ClusterGroup
from support.redis_topologies import SentinelGroup

APPS = Path(__file__).parent / "apps"


@pytest.fixture
def serve_store_app(tmp_path: Path) -> t.Callable[..., GunicornServer]:
    """``serve_store_app(env, port=None, clean_log=True)``: gunicorn (two
    sync workers) serving ``apps/store_app.py`` with ``env``, to be started
    with ``with``."""

    def make(
        env: t.Mapping[str, str | None],
        *,
        port: int | None = None,
        clean_log: bool = True,
    ) -> GunicornServer:
        return GunicornServer(
            app="store_app:create_app()",
            env={"STORE_APP_INSTANCE": str(tmp_path / "instance"), **env},
            workers=2,
            port=port,
            args=("--chdir", str(APPS)),
            clean_log=clean_log,
        )

    return make


@pytest.fixture(scope="session")
def sentinel_group() -> t.Iterator[SentinelGroup]:
    """A primary, a replica and three sentinels, for the whole session (the
    failover test kills a primary of its own)."""
    with SentinelGroup() as group:
        yield group


@pytest.fixture(scope="session")
def cluster_group() -> t.Iterator[ClusterGroup]:
    """Three primaries in one Redis Cluster, for the whole session."""
    with ClusterGroup() as group:
        yield group


def _emptied(server: t.Any) -> str:
    """The store URL of ``server`` (one Redis, Sentinel, Cluster), emptied.

    The fixtures below name the session fixture of each kind in their own
    code, where the tier inference reads it (tests/support/tiers.py).
    """
    if isinstance(server, SentinelGroup):
        server.primary.command("FLUSHALL")
    elif isinstance(server, ClusterGroup):
        for node in server.nodes:
            node.command("FLUSHALL")
    else:
        server.flushall()
    return t.cast(str, server.url)


#: The in-process backends start nothing: they are in the fast tier
#: whatever else the fixtures below could start (tests/support/tiers.py).
IN_PROCESS = pytest.mark.tiers("unit")


@pytest.fixture(
    params=[
        pytest.param("file", marks=IN_PROCESS),
        "redis",
        "sentinel",
        "cluster",
        pytest.param("memory", marks=IN_PROCESS),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh store on each backend."""
    if request.param == "file":
        return create_store(f"file://{tmp_path}/store", "/nonexistent", "t:")
    if request.param == "memory":
        return create_store("memory://", "/nonexistent", "t:")
    server = request.getfixturevalue(
        {
            "redis": "redis_server",
            "sentinel": "sentinel_group",
            "cluster": "cluster_group",
        }[request.param]
    )
    return create_store(_emptied(server), "/nonexistent", "t:")


@pytest.fixture(
    params=[pytest.param("file", marks=IN_PROCESS), "redis", "sentinel", "cluster"]
)
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a store that several processes can share."""
    if request.param == "file":
        return f"file://{tmp_path}/store"
    server = request.getfixturevalue(
        {
            "redis": "redis_server",
            "sentinel": "sentinel_group",
            "cluster": "cluster_group",
        }[request.param]
    )
    return _emptied(server)


class BreakableRedis(RedisServer):
    """A redis-server of one test, to stop, freeze and bring back."""

    def freeze(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGCONT)


@pytest.fixture
def own_redis() -> t.Iterator[BreakableRedis]:
    server = BreakableRedis()
    with server:
        try:
            yield server
        finally:
            if server.pid is not None:
                server.thaw()  # a frozen server would ignore SIGTERM


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@contextlib.contextmanager
def _mounted(path: Path, *args: str) -> t.Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    _mount(*args, str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> t.Iterator[Path]:
    """A 256 KiB tmpfs: fill it to make the store's disk full."""
    with _mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=256k", "tmpfs") as p:
        yield p


class Remountable:
    """A folder bind-mounted on itself, to make read-only and writable again."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_only(self) -> None:
        _mount("-o", "remount,ro,bind", str(self.path))

    def writable(self) -> None:
        _mount("-o", "remount,rw,bind", str(self.path))


@pytest.fixture
def remountable(tmp_path: Path) -> t.Iterator[Remountable]:
    """``tmp_path / "ro"``, writable until told otherwise."""
    folder = tmp_path / "ro"
    with _mounted(folder, "--bind", str(folder)):
        yield Remountable(folder)
