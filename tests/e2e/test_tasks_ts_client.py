"""2025-11-25 tasks through a real client: the TypeScript SDK's experimental
tasks API (``client.experimental.tasks``, @modelcontextprotocol/sdk 1.32.2)
against the example app on gunicorn, with legs in web threads and on a
Celery worker.

The client (ts_tasks_client.mjs) reads ``execution.taskSupport``, follows
tasks with ``callToolStream`` (task creation, ``tasks/get`` polling, and
``tasks/result``, which carries a mid-task question as a live
``elicitation/create`` with the related-task ``_meta`` and resumes its
stream after the server closed it), lists, polls and cancels.
"""

from __future__ import annotations

import contextlib
import json
import typing as t
from pathlib import Path

import pytest
from task_wire import E2E_DIR

from support import GunicornServer
from support import RedisServer
from support import run_node
from support.celery_worker import CeleryWorker


@pytest.fixture(params=["thread", "celery"])
def server(
    request: pytest.FixtureRequest, redis_server: RedisServer, tmp_path: Path
) -> t.Iterator[GunicornServer]:
    env: dict[str, str | None] = {
        "EXAMPLE_INSTANCE_PATH": str(tmp_path),
        "MCP_STORE_URL": None,
        "EXAMPLE_CELERY_BROKER": None,
    }
    with contextlib.ExitStack() as stack:
        if request.param == "celery":
            base = redis_server.url.rsplit("/", 1)[0]
            env.update(
                {"MCP_STORE_URL": f"{base}/6", "EXAMPLE_CELERY_BROKER": f"{base}/7"}
            )
            stack.enter_context(CeleryWorker(env=env))
        yield stack.enter_context(GunicornServer(env=env, workers=2, clean_log=True))


def test_the_typescript_client_runs_tasks(server: GunicornServer) -> None:
    completed = run_node([E2E_DIR / "ts_tasks_client.mjs", server.mcp_url], timeout=120)
    assert completed.returncode == 0, completed.stdout
    seen = json.loads(completed.stdout.strip().splitlines()[-1])

    assert seen["protocolVersion"] == "2025-11-25"
    assert seen["capabilities"]["tasks"]["requests"] == {"tools": {"call": {}}}
    assert seen["taskSupport"]["slow_report"] == "optional"
    assert seen["taskSupport"]["export_with_approval"] == "required"
    assert "greet" not in seen["taskSupport"]

    kinds = [m["type"] for m in seen["report"]]
    assert kinds[0] == "taskCreated" and kinds[-1] == "result", kinds
    report = seen["report"][-1]["result"]
    assert report["structuredContent"] == {"rows": 3, "total": 6, "complete": True}
    task_id = seen["report"][0]["task"]["taskId"]
    related = {"io.modelcontextprotocol/related-task": {"taskId": task_id}}
    assert report["_meta"] == related
    assert seen["result"] == report  # tasks/result, called again later

    export = seen["export"]
    assert "input_required" in [m["task"]["status"] for m in export if "task" in m]
    assert export[-1]["result"]["content"][0]["text"] == "Export of sales sent"
    (asked,) = seen["elicitations"]
    export_id = export[0]["task"]["taskId"]
    assert asked["_meta"] == {
        "io.modelcontextprotocol/related-task": {"taskId": export_id}
    }

    assert seen["listed"][:2] == [task_id, export_id] and len(seen["listed"]) == 3
    assert seen["polled"]["status"] == "working"
    assert seen["cancelled"]["status"] == "cancelled"
    assert seen["afterCancel"]["status"] == "cancelled"
    assert seen["cancelAgain"]["code"] == -32602
    assert "requires task-based execution" in seen["plainCallOfRequired"]
