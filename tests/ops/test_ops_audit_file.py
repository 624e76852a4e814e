"""The audit trail's file (:class:`~flask_mcp.ops.AuditFileHandler`): lines
queued on the request's thread and written in batches by a writer thread,
none lost on a normal exit, in order, through rotation, a full disk, a fork
and a gunicorn shutdown."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

import pytest
import requests

from flask_mcp.ops import AuditFileHandler
from flask_mcp.ops.audit_line import AuditLine
from support import GunicornServer

from .helpers import ACCEPT
from .helpers import call


@pytest.fixture
def logger() -> t.Iterator[logging.Logger]:
    """A logger of this test's own, handlers closed afterwards."""
    log = logging.getLogger(f"test.audit_file.{os.urandom(4).hex()}")
    log.setLevel(logging.INFO)
    log.propagate = False
    yield log
    for handler in log.handlers:
        handler.close()
        log.removeHandler(handler)


def lines_of(path: Path) -> list[str]:
    return path.read_text("utf-8").splitlines()


def test_close_writes_what_is_queued_in_order(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "audit.jsonl"
    handler = AuditFileHandler(path, interval=60)  # the writer never wakes
    logger.addHandler(handler)
    for i in range(300):
        logger.info('{"n": %d}', i)
    assert path.read_bytes() == b""  # queued, not written on this thread
    handler.close()
    assert lines_of(path) == [f'{{"n": {i}}}' for i in range(300)]


def test_writer_writes_in_batches_without_close(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "audit.jsonl"
    logger.addHandler(AuditFileHandler(path, interval=0.02))
    logger.info("one")
    logger.info("two")
    _wait_for(lambda: lines_of(path) == ["one", "two"])


def test_audit_line_text_is_made_by_the_writer(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "audit.jsonl"
    handler = AuditFileHandler(path, interval=60)
    logger.addHandler(handler)
    arguments = {"b": [1, 2.5, None], "a": "é\ud800"}
    line = AuditLine(
        {"time": 1796560000.25, "arguments_sha256": None, "x": None}, arguments
    )
    # Straight to the handler: pytest's log capture (on every logger) would
    # ask for the text itself.
    handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))
    assert line._text is None  # nothing made on the logging thread
    handler.close()
    (written,) = lines_of(path)
    canonical = json.dumps(
        arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    assert json.loads(written) == {
        "time": "2026-12-06T12:26:40.250Z",
        "arguments_sha256": digest,
        "x": None,
    }


def test_a_lone_surrogate_stays_valid_json(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "audit.jsonl"
    handler = AuditFileHandler(path, interval=60)
    # Straight to the handler: a lone surrogate in a log record pytest
    # captured would not survive pytest-xdist's report to its controller.
    record = logger.makeRecord(
        logger.name,
        logging.INFO,
        __file__,
        0,
        AuditLine({"time": "t", "name": "x\ud800y"}),
        None,
        None,
    )
    handler.handle(record)
    handler.close()
    assert json.loads(lines_of(path)[0])["name"] == "x\ud800y"


def test_no_line_lost_under_concurrency(tmp_path: Path, logger: logging.Logger) -> None:
    """Eight threads log while the writer writes (often: a small interval
    and a small max_pending): each line once, each thread's in order."""
    path = tmp_path / "audit.jsonl"
    handler = AuditFileHandler(path, interval=0.001, max_pending=37)
    logger.addHandler(handler)
    threads, each = 8, 600
    start = threading.Barrier(threads)

    def work(thread: int) -> None:
        start.wait()
        for i in range(each):
            logger.info(AuditLine({"time": "t", "thread": thread, "i": i}))

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    handler.close()
    written = [json.loads(x) for x in lines_of(path)]
    assert len(written) == threads * each
    for thread in range(threads):
        mine = [x["i"] for x in written if x["thread"] == thread]
        assert mine == list(range(each))


def test_follows_log_rotation(tmp_path: Path, logger: logging.Logger) -> None:
    path = tmp_path / "audit.jsonl"
    handler = AuditFileHandler(path, interval=60)
    logger.addHandler(handler)
    logger.info("before")
    handler.flush()
    path.rename(tmp_path / "audit.jsonl.1")  # what logrotate does
    logger.info("after")
    handler.close()
    assert lines_of(tmp_path / "audit.jsonl.1") == ["before"]
    assert lines_of(path) == ["after"]


def test_full_disk_keeps_lines_then_writes_them(
    small_disk: Path, logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    path = small_disk / "audit.jsonl"
    filler = small_disk / "filler"
    filler.write_bytes(b"x" * (64 * 1024 - 4096))  # a page left, at most
    handler = AuditFileHandler(path, interval=60, max_pending=50)
    logger.addHandler(handler)
    for i in range(80):
        logger.info(f'{{"n": {i}, "pad": "{"p" * 200}"}}')

    def warnings() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name == "flask_mcp.ops.audit_file"
        ]

    with caplog.at_level(logging.WARNING, "flask_mcp.ops.audit_file"):
        handler.flush()  # ENOSPC: kept, the oldest beyond 50 dropped
        assert len(warnings()) == 1
        assert "cannot be written (No space left on device)" in warnings()[0]
        handler.flush()  # still full: nothing new to say
        assert len(warnings()) == 1
        filler.unlink()
        logger.info('{"n": 80}')
        handler.flush()
        assert len(warnings()) == 2
        assert "written again" in warnings()[1]
    handler.close()
    numbers = [json.loads(x)["n"] for x in lines_of(path)]
    # Whatever fit before the disk filled, then the kept ones, in order:
    # nothing twice, nothing out of order, the newest 50 and the late one.
    assert numbers == sorted(set(numbers))
    assert numbers[-51:] == list(range(30, 81))


def test_forked_child_writes_only_its_own_lines(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "audit.jsonl"
    handler = AuditFileHandler(path, interval=60)
    logger.addHandler(handler)
    logger.info("parent before fork")
    pid = os.fork()
    if pid == 0:  # the child: as a gunicorn worker of a preloading master
        try:
            logger.info("child")
            handler.close()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    logger.info("parent after fork")
    handler.close()
    assert sorted(lines_of(path)) == sorted(
        ["child", "parent before fork", "parent after fork"]
    )


def test_interpreter_exit_writes_everything(tmp_path: Path) -> None:
    """A normal exit runs logging.shutdown, which flushes the queue."""
    path = tmp_path / "audit.jsonl"
    script = f"""
import logging
from flask_mcp.ops import AuditFileHandler
log = logging.getLogger("flask_mcp.audit")
log.addHandler(AuditFileHandler({str(path)!r}, interval=600))
log.setLevel(logging.INFO)
for i in range(1000):
    log.info("line %d", i)
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert lines_of(path) == [f"line {i}" for i in range(1000)]


def test_bad_settings_and_paths(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AuditFileHandler(tmp_path / "a", interval=0)
    with pytest.raises(ValueError):
        AuditFileHandler(tmp_path / "a", max_pending=0)
    with pytest.raises(FileNotFoundError):
        AuditFileHandler(tmp_path / "missing" / "audit.jsonl")


def test_gunicorn_shutdown_loses_no_line(tmp_path: Path) -> None:
    """Two workers whose writer never wakes during the test (interval 600 s):
    every line reaches the file at SIGTERM, each worker's in request order,
    and a batch's lines in the batch's order."""
    path = tmp_path / "audit.jsonl"
    env = {
        "OPS_TEST_INSTANCE": str(tmp_path),
        "OPS_TEST_AUDIT_FILE": str(path),
        "OPS_TEST_AUDIT_INTERVAL": "600",
        "MCP_AUDIT": "true",
        "MCP_STATELESS": "true",
        "PROMETHEUS_MULTIPROC_DIR": None,
    }
    headers = {"Accept": ACCEPT, "X-Key": "ann", "MCP-Protocol-Version": "2025-06-18"}
    sent: dict[str, list[int]] = {}
    with GunicornServer("tests.ops.ops_app:create_app()", env=env, workers=2) as server:
        with requests.Session() as http:
            for i in range(60):
                answer = http.post(
                    server.mcp_url,
                    json=call("echo", {"text": f"m{i}"}, id=i),
                    headers=headers,
                    timeout=30,
                )
                assert answer.status_code == 200
                sent.setdefault(answer.headers["X-Worker-Pid"], []).append(i)
            batch = [call("echo", {"text": "b"}, id=100 + i) for i in range(5)]
            answer = http.post(
                server.mcp_url,
                json=batch,
                headers={**headers, "MCP-Protocol-Version": "2025-03-26"},
                timeout=30,
            )
            assert answer.status_code == 200
            sent.setdefault(answer.headers["X-Worker-Pid"], []).extend(range(100, 105))
        assert path.read_bytes() == b""  # nothing written while serving
    written = [json.loads(x) for x in lines_of(path)]
    assert sorted(x["request_id"] for x in written) == sorted(
        i for ids in sent.values() for i in ids
    )
    for ids in sent.values():
        # One worker's lines in the order it served them: written in one
        # batch at exit, its requests (and the batch's items) in order.
        in_file = [x["request_id"] for x in written if x["request_id"] in ids]
        assert in_file == ids
    assert all(x["principal_subject"] == "ann" for x in written)


def _wait_for(condition: t.Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
