"""This process's id without a system call each time it is asked.

``os.getpid()`` is a system call (glibc stopped caching it), and the
telemetry asks on every request, to notice that a preloading gunicorn
master forked it into a worker. The id is read once and again in the child
of each fork (:func:`os.register_at_fork`).
"""

from __future__ import annotations

import os

_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def current_pid() -> int:
    """``os.getpid()``, as of the last fork."""
    return _pid
