"""Files in one folder, shared by every process of one host.

Entries live in one SQLite database, ``store.sqlite3`` in the folder (with
its ``-wal`` and ``-shm`` files): small entries share pages instead of
costing a file and a 4 KB block each, a write costs tens of microseconds
instead of a file created and renamed, and expired entries go with one
indexed ``DELETE``. The format (version 2, ``PRAGMA user_version``)::

    CREATE TABLE entries (key TEXT PRIMARY KEY, value TEXT NOT NULL,
                          expires REAL NOT NULL)  -- Unix time

``value`` is the JSON text of :mod:`flask_mcp.store.codec`. The database
runs in WAL mode with ``synchronous=NORMAL``: a crash of the process loses
nothing committed, a crash of the machine may lose the last writes but never
corrupts the file.

How each operation stays atomic across processes: ``set``, ``delete`` and
``get`` are one statement; ``add``, ``take`` and ``incr`` read and write in
one ``BEGIN IMMEDIATE`` transaction (SQLite lets one writer in at a time,
and readers never wait). Locks are lock files in ``.locks/`` (see
:mod:`.flock`): the kernel releases them when their process dies.

Each process sweeps expired entries on a timer of its own, every
``sweep_interval`` seconds (one process at a time: the others skip while a
sweep runs). The sweep also removes the one-file-per-entry files of
releases before 0.2 (pickles, which read as missing) and files left by
crashed processes; other files in the folder are left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sqlite3
import threading
import time
import typing as t

from ..codec import dumps
from ..codec import loads
from ..errors import LockTimeout
from ..errors import StoreUnavailable
from . import flock

logger = logging.getLogger(__name__)

#: The database's name in the folder.
DATABASE = "store.sqlite3"
#: ``PRAGMA user_version`` of this format.
FORMAT_VERSION = 2
_LOCK_DIR = ".locks"
_SWEEP_LOCK = "sweep"
#: Files of the format before (one per entry: a SHA-256 name, ``MCPS`` header).
_LEGACY_ENTRY = re.compile(r"[0-9a-f]{64}")
_LEGACY_MAGIC = b"MCPS\x01"
_LEGACY_TEMP = re.compile(r"\.(tmp|take)-[0-9a-f]{16}")
_LOCK_NAME = re.compile(r"[0-9a-f]{64}(\.entry)?|sweep")
#: Seconds after which a lock file nobody holds is a crashed process's leftover.
_LEFTOVER_AGE = 60.0
#: Seconds between two checks that the database file is still the one open.
_CHECK_EVERY = 1.0
#: Expired rows deleted per statement, so a sweep never holds the write lock long.
_SWEEP_BATCH = 500
#: Pages (4 KB) the write-ahead log may hold before a checkpoint.
_WAL_PAGES = 256

#: Held by a sweep and by ``os.fork()``: a worker forked from a master that
#: sweeps (gunicorn ``--preload`` with a store used at start-up) never starts
#: in the middle of its parent's SQLite call, with SQLite's own locks held.
_FORK_GUARD = threading.Lock()
os.register_at_fork(
    before=_FORK_GUARD.acquire,
    after_in_parent=_FORK_GUARD.release,
    after_in_child=_FORK_GUARD.release,
)

_SCHEMA = f"""
PRAGMA auto_vacuum = INCREMENTAL;
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires);
PRAGMA user_version = {FORMAT_VERSION};
"""
_GET = "SELECT value FROM entries WHERE key = ? AND expires > ?"
_ROW = "SELECT value, expires FROM entries WHERE key = ?"
_PUT = (
    "INSERT INTO entries (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key)"
    " DO UPDATE SET value = excluded.value, expires = excluded.expires"
)
_DELETE = "DELETE FROM entries WHERE key = ?"
_EXPIRED = (
    "DELETE FROM entries WHERE rowid IN"
    f" (SELECT rowid FROM entries WHERE expires <= ? LIMIT {_SWEEP_BATCH})"
)


class FileStoreBackend:
    """A SQLite database in ``path``; every process of one host can share it.

    :param path: the folder, made if missing.
    :param timeout: seconds a write waits for another process's write.
    :param sweep_interval: seconds between two sweeps of expired entries by
        this process's timer; ``0``: no timer (``flask mcp purge`` only).
    """

    def __init__(
        self, path: str, *, timeout: float = 2.0, sweep_interval: float = 60.0
    ) -> None:
        self.path = path
        self.timeout = timeout
        self.sweep_interval = sweep_interval
        self.database = os.path.join(path, DATABASE)
        self._lock_dir = os.path.join(path, _LOCK_DIR)
        self._mutex = threading.Lock()
        #: Idle connections of this process, with the generation they belong to.
        self._pool: list[tuple[int, sqlite3.Connection]] = []
        #: Bumped when the pool is dropped: connections in use then are closed
        #: when they come back instead of rejoining it.
        self._generation = 0
        self._pid = os.getpid()
        self._inode: int | None = None
        self._checked_at = 0.0
        self._sweeper: int | None = None  # pid of the process whose timer runs

    def __repr__(self) -> str:
        return f"FileStoreBackend({self.path!r})"

    # -- operations --------------------------------------------------------

    def get(self, key: str) -> t.Any:
        try:
            with self._connection() as db:
                row = db.execute(_GET, (key, time.time())).fetchone()
        except StoreUnavailable:
            row = self._read_only(_GET, (key, time.time()))
        return None if row is None else loads(row[0])

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        data = dumps(value).decode("ascii")
        with self._connection() as db:
            db.execute(_PUT, (key, data, time.time() + ttl))

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        data = dumps(value).decode("ascii")
        with self._connection() as db:
            if _live(db.execute(_ROW, (key,)).fetchone()):
                return False  # a live entry seen is enough to say no
            with _transaction(db):
                if _live(db.execute(_ROW, (key,)).fetchone()):
                    return False
                db.execute(_PUT, (key, data, time.time() + ttl))
                return True

    def delete(self, key: str) -> None:
        with self._connection() as db:
            db.execute(_DELETE, (key,))

    def take(self, key: str) -> t.Any:
        with self._connection() as db, _transaction(db):
            row = db.execute(_ROW, (key,)).fetchone()
            if row is None:
                return None
            db.execute(_DELETE, (key,))
        return loads(row[0]) if row[1] > time.time() else None

    def incr(self, key: str, ttl: float) -> int:
        with self._connection() as db, _transaction(db):
            row = db.execute(_ROW, (key,)).fetchone()
            current = loads(row[0]) if row is not None and row[1] > time.time() else 0
            value = current + 1 if type(current) is int else 1
            db.execute(_PUT, (key, str(value), time.time() + ttl))
        return value

    def lock(self, name: str, timeout: float) -> t.ContextManager[None]:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
        return flock.hold(os.path.join(self._lock_dir, digest), timeout, name)

    def ping(self) -> None:
        """Raise :class:`~flask_mcp.store.StoreUnavailable` unless a write
        could start now (no other process holds the database too long)."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")

    def close(self) -> None:
        """Close this process's idle connections (the next operation opens
        one again)."""
        pool, self._pool = self._pool, []
        self._generation += 1
        for _, db in pool:
            db.close()

    # -- housekeeping ------------------------------------------------------

    def remove_expired(self) -> int:
        """Delete expired entries, the files of the format before and the
        files left by crashed processes; how many entries were removed.
        Other files are left alone."""
        with _FORK_GUARD:
            removed = 0
            now = time.time()
            with self._connection() as db:
                while True:
                    deleted = db.execute(_EXPIRED, (now,)).rowcount
                    removed += deleted
                    if deleted < _SWEEP_BATCH:
                        break
                db.execute("PRAGMA incremental_vacuum")
            removed += self._remove_legacy_files(now)
            for name in _listdir(self._lock_dir):
                path = os.path.join(self._lock_dir, name)
                if _LOCK_NAME.fullmatch(name) and _age(path, now) > _LEFTOVER_AGE:
                    flock.try_remove(path)
            return removed

    def _remove_legacy_files(self, now: float) -> int:
        removed = 0
        for name in _listdir(self.path):
            path = os.path.join(self.path, name)
            if _LEGACY_ENTRY.fullmatch(name) and _head(path) == _LEGACY_MAGIC:
                removed += _unlink(path)
            elif _LEGACY_TEMP.fullmatch(name) and _age(path, now) > _LEFTOVER_AGE:
                _unlink(path)
        return removed

    def _start_sweeper(self) -> None:
        with self._mutex:
            if self._sweeper == os.getpid():
                return
            self._sweeper = os.getpid()
        if self.sweep_interval <= 0:
            return
        threading.Thread(
            target=self._sweep_forever, name="flask_mcp store sweep", daemon=True
        ).start()

    def _sweep_forever(self) -> None:
        pid = os.getpid()
        while self._sweeper == pid:
            time.sleep(self.sweep_interval)
            try:
                with flock.hold(os.path.join(self._lock_dir, _SWEEP_LOCK), 0, "sweep"):
                    removed = self.remove_expired()
            except LockTimeout:
                continue  # another process sweeps now
            except (StoreUnavailable, OSError) as error:
                logger.debug("store sweep of %s skipped: %s", self.path, error)
                continue
            if removed:
                logger.debug("swept %d expired store entries", removed)

    # -- connections -------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> t.Iterator[sqlite3.Connection]:
        """A connection of this process's pool, for one operation; SQLite's
        errors become :class:`~flask_mcp.store.StoreUnavailable`."""
        if self._sweeper != os.getpid():
            self._start_sweeper()
        self._check_file()
        try:
            generation, db = (
                self._pool.pop() if self._pool else (self._generation, self._connect())
            )
        except sqlite3.Error as error:
            raise _unavailable(error, self.database) from error
        except OSError as error:
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from error
        try:
            yield db
        except sqlite3.Error as error:
            raise _unavailable(error, self.database) from error
        finally:
            if db.in_transaction:  # an error inside a transaction
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            if generation == self._generation:
                self._pool.append((generation, db))
            else:
                db.close()

    def _connect(self) -> sqlite3.Connection:
        if not os.path.isdir(self.path):
            os.makedirs(self._lock_dir, exist_ok=True)
        db = sqlite3.connect(
            self.database,
            timeout=self.timeout,
            isolation_level=None,  # transactions are explicit
            check_same_thread=False,  # pooled: one thread at a time uses it
        )
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            db.execute("PRAGMA synchronous = NORMAL")
            # A write-ahead log of 1 MB at most between checkpoints (4 MB by
            # default), cut back to that size after each.
            db.execute(f"PRAGMA wal_autocheckpoint = {_WAL_PAGES}")
            db.execute(f"PRAGMA journal_size_limit = {_WAL_PAGES * 4096}")
            if db.execute("PRAGMA user_version").fetchone()[0] != FORMAT_VERSION:
                db.executescript(_SCHEMA)
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            db.close()
            raise
        os.makedirs(self._lock_dir, exist_ok=True)
        self._inode = os.stat(self.database).st_ino
        return db

    def _check_file(self) -> None:
        """Drop the pool after a fork (a connection never crosses one) or
        when the database file was removed or replaced (a tmp cleaner):
        the next connection makes it again."""
        pid = os.getpid()
        if pid != self._pid:
            self._pool, self._pid, self._inode = [], pid, None
            self._generation += 1
            return
        now = time.monotonic()
        if now - self._checked_at < _CHECK_EVERY or self._inode is None:
            return
        self._checked_at = now
        try:
            inode: int | None = os.stat(self.database).st_ino
        except OSError:
            inode = None
        if inode != self._inode:
            self._inode = None
            self.close()

    def _read_only(self, query: str, args: tuple[t.Any, ...]) -> t.Any:
        """One row read without a writable connection (a read-only disk):
        ``None`` if there is no database."""
        if not os.path.exists(self.database):
            return None
        for options in ("mode=ro", "mode=ro&immutable=1"):
            try:
                db = sqlite3.connect(f"file:{self.database}?{options}", uri=True)
            except sqlite3.Error:
                continue
            try:
                return db.execute(query, args).fetchone()
            except sqlite3.Error:
                continue
            finally:
                db.close()
        raise StoreUnavailable(f"the store database {self.database} cannot be read")


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> t.Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    yield
    db.execute("COMMIT")


def _live(row: tuple[str, float] | None) -> bool:
    """Whether a row is a live, readable entry (what ``add`` may not replace)."""
    return row is not None and row[1] > time.time() and loads(row[0]) is not None


def _unavailable(error: sqlite3.Error, database: str) -> StoreUnavailable:
    name = getattr(error, "sqlite_errorname", "")
    busy = name in {"SQLITE_BUSY", "SQLITE_LOCKED"} or "locked" in str(error)
    return StoreUnavailable(
        f"SQLite {name or type(error).__name__}: {error} ({database})",
        # Another process holds the database past the timeout (a frozen
        # worker mid-write): every write would wait as long.
        unreachable=busy,
    )


def _head(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(len(_LEGACY_MAGIC))
    except OSError:
        return None


def _age(path: str, now: float) -> float:
    try:
        return now - os.stat(path).st_mtime
    except FileNotFoundError:
        return 0.0


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


def _unlink(path: str) -> int:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return 0
    return 1
