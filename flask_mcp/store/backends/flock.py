"""Lock files that every process of one host can share, removed on release.

A lock is an ``flock`` on a file named after the lock. Removing that file on
release races with processes that opened it and wait for the lock: they
would lock an unlinked file while a newcomer locks a fresh one under the same
name. So a locker checks, once it holds the lock, that the file it holds is
still the one at the path (same inode), and starts over if not.

``flock`` has no timeout, so waiting polls ``LOCK_NB`` with a growing pause
(1 ms to 50 ms) until the deadline; a lock held by a process that dies is
released by the kernel.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import typing as t

from ..errors import LockTimeout

#: Longest pause between two attempts, in seconds.
_MAX_PAUSE = 0.05


@contextlib.contextmanager
def hold(path: str, timeout: float, name: str) -> t.Iterator[None]:
    """Hold the lock file ``path`` (made if needed) for the ``with`` body.

    :param name: the lock's name, for the :class:`LockTimeout` message.
    :raises LockTimeout: when it is not had within ``timeout`` seconds.
    :raises OSError: when the file cannot be made (the store reports it as
        :class:`~flask_mcp.store.StoreUnavailable`).
    """
    fd = _acquire(path, time.monotonic() + timeout, timeout, name)
    try:
        yield
    finally:
        # Unlink while still holding it: a waiter that then gets the old
        # inode sees it is no longer at ``path`` and starts over.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


def try_remove(path: str) -> bool:
    """Remove a lock file nobody holds (left by a crashed process); ``True``
    if removed. Never waits."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if _is_current(fd, path):
            os.unlink(path)
            return True
        return False
    except OSError:
        return False
    finally:
        os.close(fd)


def _acquire(path: str, deadline: float, timeout: float, name: str) -> int:
    pause = 0.001
    while True:
        fd = _open(path)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(name, timeout) from None
                    time.sleep(pause)
                    pause = min(pause * 2, _MAX_PAUSE)
            if _is_current(fd, path):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # released and removed meanwhile: lock the new file


def _open(path: str) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
    try:
        return os.open(path, flags, 0o600)
    except FileNotFoundError:  # the folder was removed (a tmp cleaner)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return os.open(path, flags, 0o600)


def _is_current(fd: int, path: str) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False
