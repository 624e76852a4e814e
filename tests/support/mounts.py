"""Read-only and tiny filesystems for fault tests.

Tests run as root, so ``chmod`` cannot make a folder unwritable: a real
read-only bind mount or a full tmpfs does. Each is unmounted (lazily, so a
file left open cannot keep it) when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import subprocess
import typing as t
from pathlib import Path

__all__ = ["read_only_folder", "tiny_tmpfs"]


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@contextlib.contextmanager
def read_only_folder(path: Path) -> t.Iterator[Path]:
    """``path`` (made if missing), mounted read-only on itself."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,ro,bind", str(path))
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def tiny_tmpfs(path: Path, size: str = "64k") -> t.Iterator[Path]:
    """A tmpfs of ``size`` at ``path``: fill it to make a disk full."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
