"""A log handler that appends lines to a file in batches, off the request's
thread: the audit trail's file.

:class:`logging.FileHandler` writes and flushes every record, one system
call per request; under load that write is a large part of what the audit
trail costs a worker. :class:`AuditFileHandler` only queues the line on the
request's thread; a writer thread appends everything queued since its last
turn in one ``write`` every ``interval`` seconds (or sooner when
``max_pending`` lines wait).

What it keeps and what it may lose:

* Lines of one process reach the file in the order they were logged; the
  processes of a server (gunicorn workers) append whole batches, so lines
  of different workers interleave batch by batch (each has its ``time``).
* A normal exit writes everything: :func:`logging.shutdown` (run at exit)
  flushes and closes every handler, and gunicorn workers exit through it on
  ``SIGTERM``, ``SIGINT``, ``SIGQUIT``, a ``max_requests`` restart and a
  worker timeout (``SIGABRT``).
* ``SIGKILL`` (or the kernel's OOM killer, or a power cut) loses the lines
  not written yet: at most the last ``interval`` seconds of that process.
* A failing disk (full, read-only) keeps the lines queued and retries each
  turn, warning once per outage on ``flask_mcp.ops.audit_file``; past
  ``max_pending`` unwritten lines the oldest are dropped and counted in
  that warning, so memory stays bounded.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import typing as t
import weakref

from .audit_line import AuditLine
from .audit_line import encode_line

log = logging.getLogger(__name__)


class AuditFileHandler(logging.Handler):
    """Appends each record as one line to ``filename``, in batches.

    The line is the record's message (the audit trail's JSON object), or
    the formatter's text when one is set. Use it in a logging configuration
    as any handler (``"class": "flask_mcp.ops.AuditFileHandler"``).

    :param filename: the file, opened for appending (created if missing,
        reopened when log rotation moves it, like
        :class:`~logging.handlers.WatchedFileHandler`).
    :param interval: seconds between writes: what ``SIGKILL`` may lose.
    :param max_pending: lines that wake the writer early, and the most held
        while the file cannot be written.
    :raises OSError: if the file cannot be opened.
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        interval: float = 0.2,
        max_pending: int = 100_000,
        level: int = logging.NOTSET,
    ) -> None:
        super().__init__(level)
        if interval <= 0 or max_pending < 1:
            raise ValueError("interval must be > 0 and max_pending >= 1")
        self.filename = os.path.abspath(filename)
        self.interval = interval
        self.max_pending = max_pending
        self._pending: collections.deque[str | AuditLine] = collections.deque()
        self._unwritten = b""
        self._partial = False  # _unwritten begins inside a line of the file
        self._warned = False  # about the current outage
        self._dropped = 0  # lines dropped in it
        self._fd = -1
        self._identity: tuple[int, int] | None = None
        self._open()
        self._reset()
        _at_fork(self)

    def _reset(self) -> None:
        """State of one process: no writer yet, nothing of another's queued."""
        self._pending.clear()
        self._unwritten = b""
        self._partial = False
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closing = False

    # -- the request's thread ---------------------------------------------------

    def handle(self, record: logging.LogRecord) -> bool:
        """Queue the record's line (no handler lock: the queue is thread-safe)."""
        checked = self.filter(record)
        if isinstance(checked, logging.LogRecord):  # Python 3.12: a new record
            record = checked
        if checked:
            self.emit(record)
        return bool(checked)

    def emit(self, record: logging.LogRecord) -> None:
        line: str | AuditLine
        try:
            if self.formatter is not None:
                line = self.format(record)
            elif isinstance(record.msg, AuditLine) and not record.args:
                line = record.msg  # its text is made by the writer
            else:
                line = record.getMessage()
        except Exception:
            self.handleError(record)
            return
        self._pending.append(line)
        if self._closing:  # logged after close (at exit): written at once
            self.flush()
        elif self._thread is None:
            self._start()
        elif len(self._pending) >= self.max_pending:
            self._wake.set()

    # -- the writer -------------------------------------------------------------

    def _start(self) -> None:
        with self._write_lock:
            if self._thread is not None or self._closing:
                return
            self._thread = threading.Thread(
                target=self._run, name="flask_mcp audit writer", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write every queued line now."""
        with self._write_lock:
            warning = self._write()
        if warning is not None:  # outside the lock: it may come back here
            log.warning(*warning)

    def _write(self) -> tuple[t.Any, ...] | None:
        """Write the queue; a warning to log, if the file's state changed."""
        count = len(self._pending)
        if not count and not self._unwritten:
            return None
        data = self._unwritten
        if count:
            text = "\n".join([_text(self._pending.popleft()) for _ in range(count)])
            # A lone surrogate (JSON's "\ud800" decodes to one) is written
            # back as that escape: the line stays valid JSON.
            data += (text + "\n").encode("utf-8", "backslashreplace")
        written = 0
        try:
            self._reopen_if_moved()
            while written < len(data):
                written += os.write(self._fd, data[written:])
        except OSError as error:
            # What was written may end inside a line: its rest comes first
            # next time, and is never dropped (the file's line stays whole).
            if written:
                self._partial = data[written - 1 : written] != b"\n"
            return self._keep(data[written:], error)
        self._unwritten = b""
        self._partial = False
        if not self._warned:
            return None
        self._warned, self._dropped = False, 0
        return ("the audit file %s is written again", self.filename)

    def _keep(self, data: bytes, error: OSError) -> tuple[t.Any, ...] | None:
        """Hold what could not be written for the next turn, within bounds."""
        keep = data.index(b"\n") + 1 if self._partial else 0
        excess = data.count(b"\n", keep) - self.max_pending
        if excess > 0:
            cut = keep
            for _ in range(excess):
                cut = data.index(b"\n", cut) + 1
            data = data[:keep] + data[cut:]
            self._dropped += excess
        self._unwritten = data
        if self._warned and excess <= 0:
            return None
        self._warned = True
        return (
            "the audit file %s cannot be written (%s): its lines are kept for"
            " the next try (%d dropped so far, the oldest beyond %d)",
            self.filename,
            error.strerror or error,
            self._dropped,
            self.max_pending,
        )

    def _open(self) -> None:
        self._fd = os.open(
            self.filename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640
        )
        stat = os.fstat(self._fd)
        self._identity = (stat.st_dev, stat.st_ino)

    def _reopen_if_moved(self) -> None:
        """Follow log rotation: the path names another file, or none (and
        reopen after :meth:`close`)."""
        if self._fd < 0:
            self._open()
            return
        try:
            stat = os.stat(self.filename)
            if (stat.st_dev, stat.st_ino) == self._identity:
                return
        except FileNotFoundError:
            pass
        old, self._fd = self._fd, -1
        if old >= 0:
            os.close(old)
        self._open()

    def close(self) -> None:
        """Stop the writer and write what is queued."""
        self._closing = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(5.0, 10 * self.interval))
        try:
            self.flush()
        finally:
            with self._write_lock:
                if self._fd >= 0:
                    os.close(self._fd)
                    self._fd = -1
            super().close()


def _text(line: str | AuditLine) -> str:
    """The text of a queued line (an :class:`AuditLine`'s is made here)."""
    if isinstance(line, str):
        return line
    try:
        return str(line)
    except Exception:  # a bug: the line is written anyway, as far as it goes
        log.exception("an audit line could not be written out")
        return encode_line({"unwritable": repr(line.fields)})


def _at_fork(handler: AuditFileHandler) -> None:
    """In a forked child (a gunicorn worker of a preloading master) the
    parent's writer thread does not exist and its queued lines are the
    parent's to write: start afresh."""
    ref = weakref.ref(handler)

    def after_in_child() -> None:
        alive = ref()
        if alive is not None:
            alive._reset()

    os.register_at_fork(after_in_child=after_in_child)
