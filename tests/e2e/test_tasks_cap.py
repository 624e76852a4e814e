"""The cap on a principal's active tasks (``MCP_TASKS_PER_PRINCIPAL``) on
gunicorn (2 workers, Redis store), over raw HTTP on both eras: the task past
the cap gets 429 with ``Retry-After`` and -32029, another principal and plain
calls are unaffected, and a task that completes or is cancelled gives its
slot back. Each test has principals of its own (the server is shared).
"""

from __future__ import annotations

import time
import typing as t
from pathlib import Path

import pytest
import requests
from task_wire import APPS_DIR
from task_wire import LegacySession
from task_wire import error
from task_wire import modern
from task_wire import result
from task_wire import start
from task_wire import wait

from support import REPO_ROOT
from support import GunicornServer
from support import RedisServer

CAP = 2
USERS = ("ann", "ben", "cid", "dot")


@pytest.fixture(scope="module")
def url(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[str]:
    server = GunicornServer(
        app="task_app:create_app()",
        env={
            "EXAMPLE_INSTANCE_PATH": str(tmp_path_factory.mktemp("cap")),
            "EXAMPLE_API_KEYS": ",".join(f"key-{u}={u}:user" for u in USERS),
            "EXAMPLE_CELERY_BROKER": None,
            "MCP_STORE_URL": redis_server.url.rsplit("/", 1)[0] + "/4",
            "MCP_TASKS_PER_PRINCIPAL": str(CAP),
            "MCP_TASKS_POLL_INTERVAL_MS": "100",
        },
        workers=2,
        args=["--pythonpath", f"{REPO_ROOT},{APPS_DIR}"],
    )
    with server:
        yield server.mcp_url


def held(url: str, key: str, path: Path) -> str:
    return start(url, "hold_until", {"path": str(path)}, key=key)


def assert_limited(response: requests.Response) -> None:
    status, refused = error(response)
    assert status == 429, refused
    assert refused["code"] == -32029
    assert "active tasks" in refused["message"]
    seconds = int(response.headers["Retry-After"])
    assert seconds >= 1
    assert refused["data"] == {"retryAfter": seconds}


def test_2026_the_task_past_the_cap_waits_for_a_slot(url: str, tmp_path: Path) -> None:
    ann, ben = "key-ann", "key-ben"
    paths = [tmp_path / f"go{i}" for i in range(4)]
    first, second = (held(url, ann, p) for p in paths[:2])
    call = {"name": "hold_until", "arguments": {"path": str(paths[2])}}
    assert_limited(modern(url, "tools/call", call, key=ann))
    # Another principal is not counted against ann.
    theirs = held(url, ben, paths[3])
    # A plain call (no extension declared: task="optional" runs inline) is
    # not a task, and is not refused.
    paths[2].write_text("go")
    plain = result(modern(url, "tools/call", call, key=ann, capabilities={}))
    assert plain["structuredContent"]["cancelled"] is False
    # A task that completes gives its slot back, on whichever worker.
    paths[0].write_text("go")
    assert wait(url, first, key=ann)["status"] == "completed"
    third = held(url, ann, paths[1])
    assert_limited(modern(url, "tools/call", call, key=ann))
    # So does a cancelled one.
    result(modern(url, "tasks/cancel", {"taskId": second}, key=ann))
    assert wait(url, second, key=ann)["status"] == "cancelled"
    fourth = held(url, ann, paths[1])
    paths[1].write_text("go")
    paths[3].write_text("go")
    for task_id, key in ((third, ann), (fourth, ann), (theirs, ben)):
        assert wait(url, task_id, key=key)["status"] == "completed"


def test_2025_the_task_past_the_cap_waits_for_a_slot(url: str, tmp_path: Path) -> None:
    session, other = LegacySession(url, key="key-cid"), LegacySession(url, "key-dot")
    go = tmp_path / "go"

    def call(path: Path, task: bool = True) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {
            "name": "hold_until",
            "arguments": {"path": str(path)},
        }
        if task:
            params["task"] = {"ttl": 60_000}
        return params

    tasks = [session.call("tools/call", call(go))["task"]["taskId"] for _ in range(CAP)]
    response = session.post("tools/call", call(go), request_id=7)
    assert_limited(response)
    assert response.json()["id"] == 7
    # The 2026 era counts the same tasks: one cap per principal.
    assert_limited(modern(url, "tools/call", call(go, task=False), key="key-cid"))
    assert other.call("tools/call", call(go))["task"]["status"] == "working"
    # Without params.task the call runs as a plain call, not counted.
    done = tmp_path / "done"
    done.write_text("go")
    plain = session.call("tools/call", call(done, task=False))
    assert plain["structuredContent"]["cancelled"] is False
    # A cancelled task gives its slot back.
    cancelled = session.call("tasks/cancel", {"taskId": tasks[0]})
    assert cancelled["status"] == "cancelled"
    again = session.call("tools/call", call(done))["task"]
    assert again["status"] == "working"
    go.write_text("go")
    for task_id in (tasks[1], again["taskId"]):
        final = _legacy_wait(session, task_id)
        assert final["status"] == "completed", final


def _legacy_wait(session: LegacySession, task_id: str) -> dict[str, t.Any]:
    for _ in range(200):
        task = session.call("tasks/get", {"taskId": task_id})
        if task["status"] in {"completed", "failed", "cancelled"}:
            return task
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} never ended")
