"""Files in one folder, shared by every process of one host.

File format (version 1), one file per key:

* name: the SHA-256 of the key in hex (64 characters, no extension);
* content: ``b"MCPS"``, a version byte (1), the expiry as a big-endian IEEE
  double (Unix time), then the value's pickle (:mod:`flask_mcp.store.codec`).

Nothing else in the folder is an entry: temporary files start with ``.tmp-``
or ``.take-`` and lock files live in ``.locks/``. :meth:`remove_expired`
(``flask mcp purge``) touches those names only, so a folder shared with other
files is safe.

How each operation stays atomic across processes:

* ``set`` writes a temporary file and renames it over the entry: readers see
  the old bytes or the new ones, never part of them.
* ``take`` renames the entry to a private name first: one rename wins, so
  exactly one process gets the value.
* ``add`` and ``incr`` run under a lock of that entry (``.locks/<name>.entry``,
  see :mod:`.flock`), which the sweep of expired entries also takes.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import secrets
import struct
import time
import typing as t

from ..codec import dumps
from ..codec import loads
from ..errors import LockTimeout
from . import flock

_MAGIC = b"MCPS"
_VERSION = 1
_HEADER = struct.Struct(">4sBd")
_LOCK_DIR = ".locks"
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}")
_TEMP_NAME = re.compile(r"\.(tmp|take)-[0-9a-f]{16}")
_LOCK_NAME = re.compile(r"[0-9a-f]{64}(\.entry)?")
#: Seconds after which a temporary or lock file is a crashed process's leftover.
_LEFTOVER_AGE = 60.0
#: Seconds a file must have existed before this process trusts its ``stat``
#: to tell a rewrite (file times only advance once per clock tick).
_SETTLED = 0.05
#: Seconds ``add`` and ``incr`` wait for an entry's lock (held for microseconds).
_ENTRY_LOCK_TIMEOUT = 10.0

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC

_Entry = tuple[float, bytes]


class FileStoreBackend:
    """One file per key in ``path``; every process of one host can share it.

    :param path: the folder, made if missing.
    """

    #: Entries whose bytes this process keeps, to skip re-reading unchanged files.
    recent_size = 512

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock_dir = os.path.join(path, _LOCK_DIR)
        self._recent: dict[str, tuple[tuple[int, int, int], _Entry]] = {}
        with contextlib.suppress(OSError):  # a read-only disk fails on use
            os.makedirs(self._lock_dir, exist_ok=True)

    def __repr__(self) -> str:
        return f"FileStoreBackend({self.path!r})"

    # -- reads -------------------------------------------------------------

    def get(self, key: str) -> t.Any:
        entry = self._read(self._path(key))
        if entry is None or entry[0] <= time.time():
            return None
        return loads(entry[1])

    def _read(self, path: str) -> _Entry | None:
        """The entry at ``path``; ``None`` if missing or unreadable.

        Every write replaces the file, so an unchanged ``stat`` (inode, time,
        size) means the bytes this process read last are current: sessions
        are read on every request, and this saves the open, read and close.
        Only files older than one clock tick are remembered: two rewrites
        within a tick could otherwise reuse an inode with the same time.
        """
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        seen = self._recent.get(path)
        if seen is not None and seen[0] == _stamp(stat):
            return seen[1]
        try:
            with open(path, "rb") as f:
                stat = os.fstat(f.fileno())
                data = f.read()
        except FileNotFoundError:
            return None
        entry = _parse(data)
        if entry is not None and time.time() - stat.st_mtime > _SETTLED:
            if len(self._recent) >= self.recent_size:
                self._recent.clear()
            self._recent[path] = (_stamp(stat), entry)
        return entry

    def _live(self, path: str) -> bool:
        """Whether ``path`` holds a live, readable entry (what ``add`` may
        not replace)."""
        entry = self._read(path)
        return (
            entry is not None and entry[0] > time.time() and loads(entry[1]) is not None
        )

    # -- writes ------------------------------------------------------------

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        self._replace(self._path(key), value, ttl)

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        path = self._path(key)
        if self._live(path):  # a live entry seen is enough to say no
            return False
        with self._entry_lock(path):
            if self._live(path):
                return False
            self._replace(path, value, ttl)
            return True

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def take(self, key: str) -> t.Any:
        claimed = self._claim(self._path(key))
        if claimed is None:
            return None
        try:
            with open(claimed, "rb") as f:
                entry = _parse(f.read())
        finally:
            _unlink(claimed)
        if entry is None or entry[0] <= time.time():
            return None
        return loads(entry[1])

    def incr(self, key: str, ttl: float) -> int:
        path = self._path(key)
        with self._entry_lock(path):
            entry = self._read(path)
            current = (
                loads(entry[1]) if entry is not None and entry[0] > time.time() else 0
            )
            value = current + 1 if type(current) is int else 1
            self._replace(path, value, ttl)
        return value

    def lock(self, name: str, timeout: float) -> t.ContextManager[None]:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
        return flock.hold(os.path.join(self._lock_dir, digest), timeout, name)

    def _replace(self, path: str, value: t.Any, ttl: float) -> None:
        data = _HEADER.pack(_MAGIC, _VERSION, time.time() + ttl) + dumps(value)
        tmp = os.path.join(self.path, f".tmp-{secrets.token_hex(8)}")
        try:
            fd = os.open(tmp, _CREATE, 0o600)
        except FileNotFoundError:  # the folder was removed (a tmp cleaner)
            os.makedirs(self._lock_dir, exist_ok=True)
            fd = os.open(tmp, _CREATE, 0o600)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            _unlink(tmp)
            raise

    def _claim(self, path: str) -> str | None:
        """Rename ``path`` to a private name; ``None`` if it is gone."""
        claimed = os.path.join(self.path, f".take-{secrets.token_hex(8)}")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        return claimed

    def _entry_lock(
        self, path: str, timeout: float = _ENTRY_LOCK_TIMEOUT
    ) -> t.ContextManager[None]:
        name = os.path.basename(path)
        lock_path = os.path.join(self._lock_dir, f"{name}.entry")
        return flock.hold(lock_path, timeout, f"entry {name}")

    def _path(self, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return os.path.join(self.path, digest)

    # -- housekeeping ------------------------------------------------------

    def remove_expired(self) -> int:
        """Delete expired and truncated entries, and files left by crashed
        processes; how many entries were removed. Other files are left alone."""
        now = time.time()
        removed = 0
        for name in _listdir(self.path):
            path = os.path.join(self.path, name)
            if _ENTRY_NAME.fullmatch(name):
                removed += self._remove_if_dead(path, now)
            elif _TEMP_NAME.fullmatch(name) and _age(path, now) > _LEFTOVER_AGE:
                _unlink(path)
        for name in _listdir(self._lock_dir):
            path = os.path.join(self._lock_dir, name)
            if _LOCK_NAME.fullmatch(name) and _age(path, now) > _LEFTOVER_AGE:
                flock.try_remove(path)
        return removed

    def _remove_if_dead(self, path: str, now: float) -> int:
        if not _dead(_head(path), now):
            return 0
        try:
            with self._entry_lock(path, timeout=0):
                claimed = self._claim(path)
                if claimed is None:
                    return 0
                if _dead(_head(claimed), now):
                    _unlink(claimed)
                    return 1
                # Rewritten since it was judged: put it back, unless an even
                # newer write took its place.
                with contextlib.suppress(FileExistsError):
                    os.link(claimed, path)
                _unlink(claimed)
                return 0
        except LockTimeout:
            return 0  # busy: it is in use, so leave it for the next sweep


def _parse(data: bytes) -> _Entry | None:
    if len(data) < _HEADER.size:
        return None
    magic, version, expires = _HEADER.unpack_from(data)
    if magic != _MAGIC or version != _VERSION or math.isnan(expires):
        return None
    return expires, data[_HEADER.size :]


def _head(path: str) -> bytes | None:
    """The header bytes of ``path``; ``None`` if it is gone."""
    try:
        with open(path, "rb") as f:
            return f.read(_HEADER.size)
    except FileNotFoundError:
        return None


def _dead(head: bytes | None, now: float) -> bool:
    """Whether a file with this header is an entry to remove: expired, or
    truncated (shorter than a header). A full header that is not ours marks
    another program's file: never removed."""
    if head is None:
        return False
    if len(head) < _HEADER.size:
        return True
    magic, version, expires = _HEADER.unpack(head)
    return magic == _MAGIC and version == _VERSION and not expires > now


def _stamp(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


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


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
