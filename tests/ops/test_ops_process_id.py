"""The telemetry's process id: read once, read again in a forked child (a
gunicorn worker of a preloading master), where metrics files and log
records must carry the child's id, not the master's."""

from __future__ import annotations

import logging
import os

from flask_mcp.ops.audit_line import RecordMaker
from flask_mcp.ops.process_id import current_pid


def test_current_pid_follows_fork() -> None:
    maker = RecordMaker(logging.getLogger("flask_mcp.audit"), __file__)
    assert current_pid() == os.getpid()
    assert maker("before").process == os.getpid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, f"{current_pid()} {maker('child').process}".encode())
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read) as answer:
        assert answer.read() == f"{pid} {pid}"
    assert os.waitstatus_to_exitcode(status) == 0
    assert current_pid() == os.getpid() != pid
    assert maker("after").process == os.getpid()
