"""The file store: its own format, corrupt entries, purge, lock files, speed."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import pickle
import struct
import time
from pathlib import Path

import pytest

from flask_mcp.store import Store
from flask_mcp.store import create_store

HEADER = struct.Struct(">4sBd")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def files(folder: Path) -> Store:
    return create_store(f"file://{folder}", "/nonexistent", "t:")


def entry(folder: Path, key: str) -> Path:
    return folder / hashlib.sha256(f"t:{key}".encode()).hexdigest()


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_documented_format(files: Store, folder: Path) -> None:
    before = time.time()
    files.set("k", {"v": 1}, 60)
    data = entry(folder, "k").read_bytes()
    magic, version, expires = HEADER.unpack_from(data)
    assert (magic, version) == (b"MCPS", 1)
    assert before + 60 <= expires <= time.time() + 60
    assert pickle.loads(data[HEADER.size :]) == {"v": 1}
    assert entries(folder) == [entry(folder, "k").name]
    assert os.listdir(folder / ".locks") == []


CORRUPT = {
    "empty": b"",
    "short header": b"MCPS\x01\x00",
    "foreign": b"hello, I am not an entry at all",
    "bad pickle": HEADER.pack(b"MCPS", 1, time.time() + 3600) + b"\x80\x05garbage",
    "not a pickle": HEADER.pack(b"MCPS", 1, time.time() + 3600) + b"plain text",
    "NaN expiry": HEADER.pack(b"MCPS", 1, float("nan")) + pickle.dumps(1),
    "future version": HEADER.pack(b"MCPS", 9, time.time() + 3600) + pickle.dumps(1),
}


@pytest.mark.parametrize("content", CORRUPT.values(), ids=CORRUPT.keys())
def test_a_corrupt_entry_reads_as_missing(
    files: Store, folder: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    folder.mkdir(exist_ok=True)
    for key in ("get", "take", "add", "incr"):
        entry(folder, key).write_bytes(content)
    assert files.get("get") is None
    assert files.take("take") is None
    assert files.add("add", "fresh", 60)
    assert files.get("add") == "fresh"
    assert files.incr("incr", 60) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [r for r in caplog.records if r.exc_info]


def test_purge_removes_expired_and_truncated_entries_only(
    files: Store, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files.set("live", 1, 60)
    files.set("expired-1", 1, 0.05)
    files.set("expired-2", 1, 0.05)
    entry(folder, "truncated").write_bytes(b"MC")
    foreign = {
        "notes.txt": b"keep me",
        "0" * 64: b"a full header that is not ours: keep",
        "0" * 63: b"",
        ".tmp-not-ours": b"",
    }
    for name, content in foreign.items():
        (folder / name).write_bytes(content)
    (folder / "subdir").mkdir()
    time.sleep(0.1)
    assert files.remove_expired() == 3
    assert files.get("live") == 1
    left = set(os.listdir(folder))
    assert left == {entry(folder, "live").name, ".locks", "subdir", *foreign}
    assert files.remove_expired() == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_purge_removes_leftovers_of_crashed_processes(
    files: Store, folder: Path
) -> None:
    files.set("live", 1, 60)
    old = time.time() - 3600
    leftovers = [
        folder / ".tmp-0123456789abcdef",
        folder / ".take-0123456789abcdef",
        folder / ".locks" / ("a" * 64),
        folder / ".locks" / ("b" * 64 + ".entry"),
    ]
    recent = folder / ".tmp-fedcba9876543210"  # maybe being written now
    for path in [*leftovers, recent]:
        path.write_bytes(b"")
    for path in leftovers:
        os.utime(path, (old, old))
    files.remove_expired()
    assert not [p for p in leftovers if p.exists()]
    assert recent.exists()
    assert files.get("live") == 1


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
    (folder / ("f" * 64)).write_bytes(b"")  # a truncated entry
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
    procs = [
        multiprocessing.Process(target=_lock_and_count, args=(url, 150))
        for _ in range(4)
    ]
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


def test_unchanged_files_are_not_read_again(files: Store, folder: Path) -> None:
    """Sessions are read on every request: a file whose inode, time and size
    are unchanged is served from memory (the benchmark depends on it)."""
    files.set("session", "A" * 10, 60)
    path = entry(folder, "session")
    time.sleep(0.1)  # older than a clock tick: its stat can be trusted
    assert files.get("session") == "A" * 10
    # Same size, same inode, same time: only a reader that opens the file sees it.
    stat = path.stat()
    data = path.read_bytes()
    with open(path, "r+b") as f:
        f.write(data.replace(b"A" * 10, b"B" * 10))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert files.get("session") == "A" * 10


def test_rewrites_are_always_seen(files: Store) -> None:
    for n in range(200):
        files.set("session", {"n": n % 7}, 60)  # same size every time
        assert files.get("session") == {"n": n % 7}


def test_the_folder_is_made_again_if_removed(files: Store, folder: Path) -> None:
    import shutil

    files.set("k", 1, 60)
    shutil.rmtree(folder)
    assert files.get("k") is None
    files.set("k", 2, 60)
    assert files.get("k") == 2
    with files.lock("after", timeout=1):
        files.incr("n", 60)
