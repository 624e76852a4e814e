"""The examples of the tasks guide, on both protocol eras, and its diagram."""

from __future__ import annotations

import importlib.util
import json
import typing as t

import pytest
from docs_helpers import DOCS
from flask import Flask

from flask_mcp.testing import MCPTestClient

ERAS = ["2025-11-25", "2026-07-28"]


def answer(ok: bool) -> t.Callable[[dict], dict]:
    return lambda params: {"action": "accept", "content": {"ok": ok}}


def result_of(client: MCPTestClient, task_id: str) -> dict:
    done = client.wait_for_task(task_id)
    if client.modern:
        return t.cast(dict, done["result"])
    return client.task_result(task_id)


@pytest.mark.parametrize("era", ERAS)
def test_build_report_runs_as_a_task(load_example: t.Any, era: str) -> None:
    example = load_example("tasks")
    with example.app.app_context():
        with example.mcp.test_client(example.app, protocol_version=era) as client:
            task = client.call_tool_as_task("build_report", {"month": "May", "rows": 3})
            assert task["status"] == "working"
            result = result_of(client, task["taskId"])
    assert result["structuredContent"] == {"month": "May", "rows": 3, "total": 6}


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("ok", [True, False])
def test_send_invoices_asks_mid_task(load_example: t.Any, era: str, ok: bool) -> None:
    example = load_example("tasks")
    with example.app.app_context():
        with example.mcp.test_client(
            example.app, protocol_version=era, elicitation=answer(ok)
        ) as client:
            task = client.call_tool_as_task("send_invoices", {"customer": "ACME"})
            text = result_of(client, task["taskId"])["content"][0]["text"]
    assert text == ("Sent the invoices for ACME." if ok else "Nothing was sent.")
    assert example.SENT == (["ACME"] if ok else [])


def test_wipe_archive_asks_before_the_task(load_example: t.Any) -> None:
    example = load_example("tasks")
    with example.app.app_context():
        with example.mcp.test_client(
            example.app, protocol_version="2026-07-28", elicitation=answer(True)
        ) as client:
            task = client.call_tool_as_task("wipe_archive", {"year": 2019})
            assert task["resultType"] == "task"  # after one input-required round
            done = client.wait_for_task(task["taskId"])
        with example.mcp.test_client(
            example.app, protocol_version="2026-07-28", elicitation=answer(False)
        ) as client:
            kept = client.call_tool_as_task("wipe_archive", {"year": 2019})
    assert done["result"]["content"][0]["text"] == "The 2019 archive was deleted."
    assert kept["resultType"] == "complete" and "taskId" not in kept
    assert kept["content"][0]["text"] == "The archive was kept."


def test_another_queue_runs_the_legs(load_example: t.Any, tmp_path: t.Any) -> None:
    queues = load_example("tasks_executor")
    example = load_example("tasks")
    app = Flask("queued", instance_path=str(tmp_path))
    app.config["MCP_TASKS_EXECUTOR"] = queues.InProcessQueue
    example.mcp.init_app(app)  # the same server on another app
    assert isinstance(example.mcp.state(app).tasks.executor, queues.InProcessQueue)
    with example.mcp.test_client(app, protocol_version="2026-07-28") as c:
        task = c.call_tool_as_task("build_report", {"month": "June", "rows": 2})
        done = c.wait_for_task(task["taskId"])
    assert json.loads(done["result"]["content"][0]["text"])["total"] == 3


def test_the_pages_test_module_passes(load_example: t.Any) -> None:
    load_example("tasks", alias="tasks")
    load_example("test_tasks").test_send_invoices()


def test_the_tasks_diagram_is_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "tasks_flow", DOCS / "_diagrams" / "tasks_flow.py"
    )
    assert spec is not None and spec.loader is not None
    diagram = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(diagram)
    committed = (DOCS / "_static" / "tasks-flow.svg").read_text()
    assert committed == diagram.draw(), "run python docs/_diagrams/tasks_flow.py"
    assert "_static/tasks-flow.svg" in (DOCS / "tasks.rst").read_text()
