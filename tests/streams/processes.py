"""Whether a process still runs, for the shutdown tests."""

from __future__ import annotations

from pathlib import Path


def running(pid: int) -> bool:
    """Running (a zombie waiting to be reaped is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(") ", 1)[1][0] != "Z"
