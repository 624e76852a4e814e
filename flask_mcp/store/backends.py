"""flask-caching backends with the atomic operations a shared MCP store needs.

Sessions, single-use codes and replies to server-to-client requests are read
and written by every gunicorn worker. Plain caches only offer ``get``/``set``,
so each backend here adds ``take`` (atomic get-and-delete), ``incr`` and
``lock`` in the way its medium allows.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import os
import secrets
import struct
import tempfile
import time
import typing as t
from contextlib import contextmanager

from flask_caching.backends.filesystemcache import FileSystemCache
from flask_caching.backends.rediscache import RedisCache
from flask_caching.backends.simplecache import SimpleCache

#: Suffix of the lock files kept beside the entries of a :class:`FileStoreBackend`.
_LOCK_DIR = ".locks"


class FileStoreBackend(FileSystemCache):
    """A file-per-key store that every process of one host can share.

    Built on flask-caching's ``FileSystemCache`` with the threshold turned off,
    so live entries are never evicted. ``take`` renames the entry away first:
    ``rename`` is atomic, so exactly one process wins a race for a key.
    """

    #: Entries whose bytes this process keeps, to skip re-reading unchanged files.
    recent_size = 512

    def __init__(self, cache_dir: str, default_timeout: int = 300) -> None:
        super().__init__(cache_dir, threshold=0, default_timeout=default_timeout)
        self._lock_dir = os.path.join(cache_dir, _LOCK_DIR)
        os.makedirs(self._lock_dir, exist_ok=True)
        self._recent: dict[str, tuple[tuple[int, int, int], int, bytes]] = {}

    def get(self, key: str) -> t.Any:
        """Read an entry; an unchanged file is not read again.

        Every write replaces the file (new inode), so ``stat`` tells whether
        the bytes this process saw last are still current. Sessions are read
        on every request: this saves the open, read and close of each.
        """
        filename = self._get_filename(key)
        try:
            stat = os.stat(filename)
        except FileNotFoundError:
            return None
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        seen = self._recent.get(filename)
        if seen is None or seen[0] != stamp:
            try:
                with open(filename, "rb") as f:
                    expires = struct.unpack("I", f.read(4))[0]
                    data = f.read()
            except (OSError, struct.error):
                return None
            if len(self._recent) >= self.recent_size:
                self._recent.clear()
            seen = self._recent[filename] = (stamp, expires, data)
        expires, data = seen[1], seen[2]
        if expires != 0 and expires < time.time():
            return None
        return self.serializer.loads(data)

    def _is_mgmt(self, name: str) -> bool:
        return name == _LOCK_DIR or super()._is_mgmt(name)

    def add(
        self, key: str, value: t.Any, timeout: int | datetime.timedelta | None = None
    ) -> bool:
        filename = self._get_filename(key)
        fd, tmp = tempfile.mkstemp(suffix=self._fs_transaction_suffix, dir=self._path)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(struct.pack("I", self._normalize_timeout(timeout)))
                self.serializer.dump(value, f)
            os.chmod(tmp, t.cast(int, self._mode))
            for _ in range(2):
                try:
                    os.link(tmp, filename)  # fails if the key exists: atomic add
                    return True
                except FileExistsError:
                    if self.get(key) is not None:
                        return False
                    _unlink(filename)  # an expired entry does not block ``add``
            return False
        finally:
            _unlink(tmp)

    def take(self, key: str) -> t.Any:
        filename = self._get_filename(key)
        claimed = f"{filename}.{secrets.token_hex(6)}{self._fs_transaction_suffix}"
        try:
            os.rename(filename, claimed)
        except FileNotFoundError:
            return None
        try:
            return self._read(claimed)
        finally:
            _unlink(claimed)

    def _read(self, filename: str) -> t.Any:
        try:
            with open(filename, "rb") as f:
                expires = struct.unpack("I", f.read(4))[0]
                if expires == 0 or expires >= time.time():
                    return self.serializer.load(f)
        except (OSError, EOFError, struct.error):
            return None
        return None

    def incr(self, key: str, timeout: int | None = None) -> int:
        with self.lock(key):
            value = int(self.get(key) or 0) + 1
            self.set(key, value, timeout)
        return value

    @contextmanager
    def lock(self, name: str, timeout: float = 10.0) -> t.Iterator[None]:
        digest = hashlib.sha256(name.encode()).hexdigest()
        path = os.path.join(self._lock_dir, digest)
        with open(path, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def remove_expired(self) -> None:
        """Delete entries whose time has passed; nothing else ever prunes them."""
        self._remove_expired(time.time())


class RedisStoreBackend(RedisCache):
    """Redis, for deployments that outgrow one host; every operation is native."""

    def _name(self, key: str) -> str:
        return f"{self._get_prefix()}{key}"

    def take(self, key: str) -> t.Any:
        return self.serializer.loads(self._write_client.getdel(self._name(key)))

    def incr(self, key: str, timeout: int | None = None) -> int:
        pipe = self._write_client.pipeline()
        pipe.incr(self._name(key))
        if timeout:
            pipe.expire(self._name(key), timeout)
        return int(pipe.execute()[0])

    @contextmanager
    def lock(self, name: str, timeout: float = 10.0) -> t.Iterator[None]:
        with self._write_client.lock(self._name(f"lock:{name}"), timeout=timeout):
            yield

    def remove_expired(self) -> None:
        """Redis expires keys by itself."""


class MemoryStoreBackend(SimpleCache):
    """One process only: for tests and the development server."""

    def __init__(self, default_timeout: int = 300) -> None:
        # SimpleCache reads a threshold of 0 as 500: make eviction unreachable.
        super().__init__(threshold=2**62, default_timeout=default_timeout)
        self._mutex = self._lock

    def add(
        self, key: str, value: t.Any, timeout: int | datetime.timedelta | None = None
    ) -> bool:
        with self._mutex:
            return bool(super().add(key, value, timeout))

    def take(self, key: str) -> t.Any:
        with self._mutex:
            value = self.get(key)
            self.delete(key)
            return value

    def incr(self, key: str, timeout: int | None = None) -> int:
        with self._mutex:
            value = int(self.get(key) or 0) + 1
            self.set(key, value, timeout)
            return value

    @contextmanager
    def lock(self, name: str, timeout: float = 10.0) -> t.Iterator[None]:
        with self._mutex:
            yield

    def remove_expired(self) -> None:
        with self._mutex:
            self._remove_expired(time.time())


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
