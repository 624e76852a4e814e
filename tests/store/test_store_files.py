"""The file store: its documented format, packing, the sweep timer, foreign
values, legacy files, lock files, a busy database, forks."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import pickle
import sqlite3
import struct
import threading
import time
import typing as t
from pathlib import Path

import pytest

from flask_mcp.store import Store
from flask_mcp.store import StoreUnavailable
from flask_mcp.store import create_store
from flask_mcp.store.backends import FileStoreBackend

#: Racing processes start fresh: a fork of this test process (its threads
#: from other tests, their locks) could hang before it races.
SPAWN = multiprocessing.get_context("spawn")

LEGACY_HEADER = struct.Struct(">4sBd")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "shared"  # not "store": a fixture name (tests/support/tiers.py)


@pytest.fixture
def files(folder: Path) -> Store:
    return create_store(f"file://{folder}", "/nonexistent", "t:")


def database(folder: Path) -> sqlite3.Connection:
    return sqlite3.connect(folder / "store.sqlite3", isolation_level=None)


def wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_documented_format(files: Store, folder: Path) -> None:
    before = time.time()
    files.set("k", {"v": [1, "two"]}, 60)
    files.incr("n", 60)
    db = database(folder)
    rows = dict(
        (
            (key, (value, expires))
            for key, value, expires in db.execute(
                "SELECT key, value, expires FROM entries"
            )
        )
    )
    assert rows["t:k"][0] == '{"v":[1,"two"]}'
    assert before + 60 <= rows["t:k"][1] <= time.time() + 60
    assert rows["t:n"][0] == "1"
    assert db.execute("PRAGMA user_version").fetchone() == (2,)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert {p.name for p in folder.iterdir()} <= {
        ".locks",
        "store.sqlite3",
        "store.sqlite3-wal",
        "store.sqlite3-shm",
    }


def test_small_entries_are_packed(files: Store, folder: Path) -> None:
    """What 1,000 streamed 2025 calls leave (a counter, events, a lease...):
    a few files, not one file and one 4 KB block per entry."""
    event = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {}}
    for call in range(1000):
        files.incr(f"evn:s:{call}", 60)
        for n in range(3):
            files.set(f"ev:s:{call}:{n}", event, 60)
        files.set(f"lease:s:{call}", {"holder": call}, 60)
    assert len(list(folder.iterdir())) <= 4
    used = sum(p.stat().st_blocks * 512 for p in folder.iterdir() if p.is_file())
    assert used < 5000 * 4096 / 4  # a quarter of a block per entry at most


def test_the_sweep_timer_removes_expired_entries(folder: Path) -> None:
    backend = FileStoreBackend(str(folder), sweep_interval=0.2)
    shared = Store(backend, "t:")
    for n in range(50):
        shared.set(f"old-{n}", n, 0.05)
    shared.set("live", 1, 60)
    db = database(folder)
    # Nothing calls remove_expired: the backend's own timer does.
    wait_until(lambda: db.execute("SELECT count(*) FROM entries").fetchone() == (1,))
    assert shared.get("live") == 1


def test_one_process_sweeps_at_a_time(folder: Path) -> None:
    from flask_mcp.store.backends import flock

    backend = FileStoreBackend(str(folder), sweep_interval=0.05)
    shared = Store(backend, "t:")
    with flock.hold(str(folder / ".locks" / "sweep"), 1, "sweep"):
        shared.set("old", 1, 0.01)  # starts the timer
        time.sleep(0.3)  # several ticks, each finding the sweep lock held
        db = database(folder)
        assert db.execute("SELECT count(*) FROM entries").fetchone() == (1,)
    wait_until(lambda: db.execute("SELECT count(*) FROM entries").fetchone() == (0,))


class Planted:
    """Unpickling this runs code: it touches a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.path}",))


def test_a_planted_pickle_never_runs(
    files: Store, folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Planted(marker))
    files.set("seed", 1, 60)  # the database exists
    db = database(folder)
    planted = {
        "get": payload,
        "take": payload,
        "add": payload,
        "incr": payload,
        "text": "not json at all",
        "truncated": '{"v": ',
    }
    for key, value in planted.items():
        db.execute(
            "INSERT INTO entries VALUES (?, ?, ?)",
            (f"t:{key}", value, time.time() + 60),
        )
    assert files.get("get") is None
    assert files.take("take") is None
    assert files.add("add", "fresh", 60)
    assert files.get("add") == "fresh"
    assert files.incr("incr", 60) == 1
    assert files.get("text") is None and files.get("truncated") is None
    assert not marker.exists()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def _legacy_entry(folder: Path, key: str, value: object) -> Path:
    path = folder / hashlib.sha256(f"t:{key}".encode()).hexdigest()
    header = LEGACY_HEADER.pack(b"MCPS", 1, time.time() + 3600)
    path.write_bytes(header + pickle.dumps(value, protocol=5))
    return path


def test_entries_of_the_format_before_read_as_missing_and_are_swept(
    files: Store, folder: Path, tmp_path: Path
) -> None:
    folder.mkdir()
    legacy = [
        _legacy_entry(folder, "session:abc", {"v": "2025-06-18"}),
        _legacy_entry(folder, "planted", Planted(tmp_path / "pwned")),
    ]
    assert files.get("session:abc") is None  # an upgrade: the session is gone
    assert files.get("planted") is None
    foreign = {
        "notes.txt": b"keep me",
        "0" * 64: b"a 64-hex name that is not ours: keep",
        ".tmp-not-ours": b"",
    }
    for name, content in foreign.items():
        (folder / name).write_bytes(content)
    (folder / "subdir").mkdir()
    assert files.remove_expired() == 2
    assert not [p for p in legacy if p.exists()]
    assert all((folder / name).exists() for name in foreign)
    assert not (tmp_path / "pwned").exists()


def test_purge_removes_expired_entries_and_leftovers_of_crashed_processes(
    files: Store, folder: Path
) -> None:
    files.set("live", 1, 60)
    files.set("expired-1", 1, 0.05)
    files.set("expired-2", 1, 0.05)
    old = time.time() - 3600
    leftovers = [
        folder / ".tmp-0123456789abcdef",  # temporary files of the format before
        folder / ".take-0123456789abcdef",
        folder / ".locks" / ("a" * 64),
        folder / ".locks" / ("b" * 64 + ".entry"),
    ]
    recent = folder / ".tmp-fedcba9876543210"
    for path in [*leftovers, recent]:
        path.write_bytes(b"")
    for path in leftovers:
        os.utime(path, (old, old))
    time.sleep(0.1)
    assert files.remove_expired() == 2
    assert not [p for p in leftovers if p.exists()]
    assert recent.exists()
    assert files.get("live") == 1
    assert files.remove_expired() == 0


def test_purge_leaves_a_held_lock_file(files: Store, folder: Path) -> None:
    with files.lock("held"):
        (path,) = (folder / ".locks").iterdir()
        old = time.time() - 3600
        os.utime(path, (old, old))
        files.remove_expired()
        assert path.exists()
    assert not path.exists()  # removed on release


def test_the_cli_purge_reports_quietly(tmp_path: Path) -> None:
    from flask import Flask

    from flask_mcp import FlaskMCP

    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    mcp = FlaskMCP(app)
    store = mcp.state(app).store
    store.set("expired", 1, 0.05)
    folder = tmp_path / "instance" / "flask_mcp"
    _legacy_entry(folder, "old", 1)
    (folder / "README").write_text("not ours")
    time.sleep(0.1)
    result = app.test_cli_runner().invoke(args=["mcp", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output == "2 expired entries removed\n"
    assert (folder / "README").exists()


def _lock_and_count(url: str, rounds: int) -> None:
    store = create_store(url, "/nonexistent", "t:")
    for _ in range(rounds):
        with store.lock("hot", timeout=30):
            path = store.backend.path + "/count"  # type: ignore[attr-defined]
            with open(path, "a+") as f:
                f.seek(0)
                value = int(f.read() or 0)
                f.seek(0)
                f.truncate()
                f.write(str(value + 1))


def test_lock_files_removed_on_release_still_exclude(folder: Path) -> None:
    """Each release unlinks the lock file while others wait on it: a waiter
    that wakes on the unlinked file must not think it holds the lock."""
    url = f"file://{folder}"
    procs = [SPAWN.Process(target=_lock_and_count, args=(url, 150)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    assert (folder / "count").read_text() == "600"
    assert os.listdir(folder / ".locks") == []


def test_incr_and_add_leave_no_lock_files(files: Store, folder: Path) -> None:
    for _ in range(3):
        files.incr("n", 60)
        files.add("a", 1, 60)
    with files.lock("x"):
        pass
    assert os.listdir(folder / ".locks") == []


def test_rewrites_are_always_seen(files: Store) -> None:
    for n in range(200):
        files.set("session", {"n": n % 7}, 60)
        assert files.get("session") == {"n": n % 7}


def test_the_folder_is_made_again_if_removed(files: Store, folder: Path) -> None:
    import shutil

    files.set("k", 1, 60)
    shutil.rmtree(folder)
    # Within a second, this process notices that its database is gone.
    wait_until(lambda: files.get("k") is None, timeout=3)
    files.set("k", 2, 60)
    assert files.get("k") == 2
    assert (folder / "store.sqlite3").exists()
    with files.lock("after", timeout=1):
        files.incr("n", 60)


def _use_after_fork(url: str, out: multiprocessing.Queue) -> None:
    store = create_store(url, "/nonexistent", "t:")
    out.put(store.get("parent"))


def _fork_workers(folder: str, out: t.Any) -> None:
    """A master that used the store forks three workers; what each read.

    Run in a fresh interpreter: this test process's threads from other
    tests (their stores' sweeps inside SQLite) must not be forked mid-call.
    """
    files = create_store(f"file://{folder}", "/nonexistent", "t:")
    files.set("parent", "written before the fork", 60)
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()

    def child() -> None:
        files.set("child", os.getpid(), 60)
        results.put(files.get("parent"))

    procs = [fork.Process(target=child) for _ in range(3)]
    for proc in procs:
        proc.start()
    seen = [results.get(timeout=20) for _ in procs]
    for proc in procs:
        proc.join(10)
    out.put((seen, [p.exitcode for p in procs], [p.pid for p in procs]))
    out.put(files.get("child"))


def test_a_forked_worker_opens_its_own_connections(folder: Path) -> None:
    """gunicorn --preload forks workers from a master that may have used the
    store: a SQLite connection must never cross a fork."""
    out = SPAWN.Queue()
    master = SPAWN.Process(target=_fork_workers, args=(str(folder), out))
    master.start()
    seen, codes, pids = out.get(timeout=60)
    last_writer = out.get(timeout=10)
    master.join(10)
    assert master.exitcode == 0
    assert codes == [0, 0, 0]
    assert seen == ["written before the fork"] * 3
    assert last_writer in pids


def _fork_during_a_sweep(folder: str, out: t.Any) -> None:
    """Fork while another thread sweeps; how long the fork waited and
    whether the child could use the store."""
    backend = FileStoreBackend(folder, sweep_interval=0)
    backend.set("k", "v", 60)
    slow = threading.Event()
    legacy = backend._remove_legacy_files

    def slow_legacy(now: float) -> int:
        slow.set()
        time.sleep(0.5)  # inside the sweep
        return legacy(now)

    backend._remove_legacy_files = slow_legacy  # type: ignore[method-assign]
    sweeper = threading.Thread(target=backend.remove_expired)
    sweeper.start()
    slow.wait(5)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os._exit(0 if backend.get("k") == "v" else 1)
    waited = time.monotonic() - started
    _, status = os.waitpid(pid, 0)
    sweeper.join()
    out.put((waited, os.waitstatus_to_exitcode(status)))


def test_a_fork_waits_for_a_sweep_in_progress(folder: Path) -> None:
    """A fork never copies a sweep midway (SQLite's locks held by a thread
    the child does not have): it waits for the sweep to end."""
    out = SPAWN.Queue()
    master = SPAWN.Process(target=_fork_during_a_sweep, args=(str(folder), out))
    master.start()
    waited, code = out.get(timeout=30)
    master.join(10)
    assert master.exitcode == 0
    assert code == 0
    assert 0.3 < waited < 5


def test_a_database_held_by_a_frozen_writer_fails_fast_then_recovers(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process stuck in the middle of a write (a frozen worker) holds
    SQLite's write lock: writes wait the timeout once, then fail at once until
    a background probe finds the database free again."""
    caplog.set_level(logging.INFO, "flask_mcp.store")
    shared = Store(FileStoreBackend(str(folder), timeout=0.3), "t:", probe_interval=0.1)
    shared.set("k", 1, 60)
    holder = database(folder)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="locked"):
            shared.set("k", 2, 60)
        assert 0.25 < time.monotonic() - started < 2
        started = time.monotonic()
        for _ in range(100):
            with pytest.raises(StoreUnavailable, match="background probe"):
                shared.get("k")
        assert time.monotonic() - started < 0.1
    finally:
        holder.execute("ROLLBACK")
    wait_until(lambda: not shared.health.open)
    shared.set("k", 3, 60)
    assert shared.get("k") == 3
    levels = [r.levelno for r in caplog.records if r.name == "flask_mcp.store.health"]
    assert levels == [logging.WARNING, logging.WARNING]
