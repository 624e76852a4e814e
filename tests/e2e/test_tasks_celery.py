"""Task legs on a Celery worker in its own process, started through gunicorn.

One Redis is the broker and the shared store; gunicorn (2 sync workers) and
``flask mcp worker`` (prefork, 2 pool processes) serve the same app. The
lease is 2 s and the broker's visibility timeout 10 s, so lost legs are
found out quickly.
"""

from __future__ import annotations

import os
import signal
import time
import typing as t
from pathlib import Path

import pytest
import requests
from task_wire import APPS_DIR
from task_wire import LegacySession
from task_wire import error
from task_wire import get
from task_wire import modern
from task_wire import result
from task_wire import start
from task_wire import wait
from task_wire import wait_for_file

from support import REPO_ROOT
from support import GunicornServer
from support import RedisServer
from support import free_port
from support.celery_worker import CeleryWorker

ALICE = "key-alice"
LEASE = 2.0
APP = "task_app:create_app()"


def environment(redis: RedisServer, instance: Path, broker: str | None = None) -> dict:
    base = redis.url.rsplit("/", 1)[0]
    return {
        "EXAMPLE_INSTANCE_PATH": str(instance),
        "EXAMPLE_API_KEYS": f"{ALICE}=alice:admin",
        "EXAMPLE_CELERY_BROKER": broker or f"{base}/1",
        "MCP_STORE_URL": f"{base}/0",
        "SECRET_KEY": "the same on every host and worker",
        "MCP_TASKS_LEASE": str(LEASE),
        "MCP_TASKS_VISIBILITY_TIMEOUT": "10",
        "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{APPS_DIR}",
    }


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
) -> t.Iterator[tuple[GunicornServer, CeleryWorker]]:
    with RedisServer() as redis:
        env = environment(redis, tmp_path_factory.mktemp("instance"))
        with (
            CeleryWorker(app=APP, env=env) as worker,
            GunicornServer(app=APP, env=env, workers=2) as web,
        ):
            yield web, worker


@pytest.fixture
def web(deployment: tuple[GunicornServer, CeleryWorker]) -> GunicornServer:
    return deployment[0]


@pytest.fixture
def worker(deployment: tuple[GunicornServer, CeleryWorker]) -> CeleryWorker:
    return deployment[1]


def test_a_leg_runs_on_the_worker_as_its_caller(
    web: GunicornServer, worker: CeleryWorker
) -> None:
    task_id = start(web.mcp_url, "where_am_i", key=ALICE)
    done = wait(web.mcp_url, task_id, key=ALICE)
    found = done["result"]["structuredContent"]
    assert found["pid"] in worker.pool_pids()
    assert found["pid"] not in web.pids()
    assert found["app"] == "example_app"  # inside the Flask app's context
    caller = {"sub": "alice", "role": "admin"}
    assert (found["caller"], found["g"], found["task"]) == (caller, caller, task_id)


def test_a_question_mid_task_on_both_eras(web: GunicornServer) -> None:
    url = web.mcp_url
    task_id = start(url, "export_with_approval", {"dataset": "sales"}, key=ALICE)
    asking = wait(url, task_id, lambda task: task["status"] != "working", key=ALICE)
    assert list(asking["inputRequests"]) == ["approve"]
    answer = {"approve": {"action": "accept", "content": {"approve": True}}}
    modern(
        url, "tasks/update", {"taskId": task_id, "inputResponses": answer}, key=ALICE
    )
    done = wait(url, task_id, key=ALICE)
    assert done["result"]["content"][0]["text"] == "Export of sales sent"
    session = LegacySession(url, key=ALICE)
    created = session.call(
        "tools/call",
        {"name": "slow_report", "arguments": {"rows": 3}, "task": {"ttl": 60000}},
    )
    final = session.call("tasks/result", {"taskId": created["task"]["taskId"]})
    assert final["structuredContent"] == {"rows": 3, "total": 6, "complete": True}


def test_cancellation_reaches_the_celery_worker(
    web: GunicornServer, worker: CeleryWorker, tmp_path: Path
) -> None:
    path = tmp_path / "never"
    task_id = start(web.mcp_url, "hold_until", {"path": str(path)}, key=ALICE)
    pid = int(wait_for_file(Path(f"{path}.pid")))
    assert pid in worker.pool_pids()
    modern(web.mcp_url, "tasks/cancel", {"taskId": task_id}, key=ALICE)
    assert int(wait_for_file(Path(f"{path}.cancelled"), timeout=5)) == pid
    assert get(web.mcp_url, task_id, key=ALICE)["status"] == "cancelled"


def test_killing_the_web_workers_does_not_disturb_a_task(
    web: GunicornServer, tmp_path: Path
) -> None:
    path = tmp_path / "go"
    task_id = start(web.mcp_url, "hold_until", {"path": str(path)}, key=ALICE)
    wait_for_file(Path(f"{path}.pid"))
    for pid in web.pids():  # the one that created it among them
        os.kill(pid, signal.SIGKILL)
    path.write_text("go")
    done = wait(web.mcp_url, task_id, timeout=30, key=ALICE)
    assert done["status"] == "completed"
    assert done["result"]["structuredContent"]["cancelled"] is False


@pytest.mark.parametrize("what", ["pool process", "whole worker"])
def test_killing_the_celery_worker_fails_the_task(
    web: GunicornServer, worker: CeleryWorker, tmp_path: Path, what: str
) -> None:
    """Within the lease (well within the visibility timeout), the task is
    failed with an error that says its worker stopped."""
    path = tmp_path / "never"
    task_id = start(web.mcp_url, "hold_until", {"path": str(path)}, key=ALICE)
    pid = int(wait_for_file(Path(f"{path}.pid")))
    if what == "pool process":
        os.kill(pid, signal.SIGKILL)  # Celery requeues it: reject_on_worker_lost
    else:
        os.killpg(t.cast(int, worker.pid), signal.SIGKILL)
    killed = time.monotonic()
    try:
        # A process killed inside the task's brief critical section (claiming
        # or ending its leg) leaves the lock held for the store's lock hold
        # (60 s): "try again" (503) meanwhile.
        failed = wait(web.mcp_url, task_id, timeout=90, unavailable_ok=True, key=ALICE)
        assert failed["status"] == "failed"
        assert "stopped" in failed["error"]["message"]
        assert time.monotonic() - killed < 75
    finally:
        if what == "whole worker":
            worker.restart()
    # A redelivered leg finds its task finished and does nothing.
    path.write_text("go")
    time.sleep(LEASE)
    assert get(web.mcp_url, task_id, key=ALICE)["status"] == "failed"


def test_a_broker_that_is_down(tmp_path: Path) -> None:
    """Task calls are refused at once with a clear error; the rest works."""
    with RedisServer() as redis:
        env = environment(redis, tmp_path, broker=f"redis://127.0.0.1:{free_port()}/0")
        with GunicornServer(app=APP, env=env, workers=1) as web:
            started = time.monotonic()
            response = modern(
                web.mcp_url,
                "tools/call",
                {"name": "slow_compute", "arguments": {"seconds": 0}},
                key=ALICE,
            )
            assert time.monotonic() - started < 10
            status, refused = error(response)
            assert (status, refused["code"]) == (200, -32603)
            assert "task queue is unavailable" in refused["message"]
            plain = modern(
                web.mcp_url,
                "tools/call",
                {"name": "greet", "arguments": {"name": "x"}},
                key=ALICE,
            )
            assert result(plain)["content"][0]["text"] == "Hello, x!"
            assert "Traceback" not in web.log()
            assert requests.get(web.url + "/", timeout=5).status_code < 500
