"""How a leg's end is recorded: data the record cannot keep fails the task
at once, only the store's errors are waited out, and a ``task.ttl`` that is
not a finite number is refused like any other bad ttl.

Legs run in the app's thread executor over the file store, as in
``test_tasks_flows.py``.
"""

from __future__ import annotations

import datetime
import logging
import time
import typing as t

import pytest
from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp import ToolResult
from flask_mcp.protocol.tasking.legs import LegRunner
from flask_mcp.protocol.tasking.lifecycle import Completed
from flask_mcp.store import LockTimeout
from flask_mcp.testing import MCPError
from support.task_records import task_record

MODERN, LEGACY = "2026-07-28", "2025-11-25"
NAME = {"type": "object", "properties": {"name": {"type": "string"}}}
WHEN = datetime.datetime(2026, 7, 28, tzinfo=datetime.timezone.utc)


@pytest.fixture
def mcp_config() -> dict[str, t.Any]:
    return {"MCP_TASKS_POLL_INTERVAL_MS": 50}


@pytest.fixture
def mcp() -> FlaskMCP:
    server = FlaskMCP(name="leg-ends")

    @server.tool(task="optional")
    def keeps_a_date(ctx: Context) -> str:
        """Keeps a datetime in ctx.state, then asks."""
        ctx.state["since"] = WHEN
        ctx.elicit("Name?", NAME, key="name")
        return "never"

    @server.tool(task="optional")
    def returns_a_date() -> ToolResult:
        """A structured result holding a datetime."""
        return ToolResult(structured={"at": WHEN})

    @server.tool(task="optional")
    def job(x: int) -> int:
        return x * 2

    return server


@pytest.mark.parametrize(
    ("tool", "what"),
    [("keeps_a_date", "state (ctx.state) or question"), ("returns_a_date", "result")],
)
def test_data_that_is_not_json_fails_the_task_at_once(
    mcp: FlaskMCP,
    app: Flask,
    tool: str,
    what: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "flask_mcp.protocol.tasking")

    def decline(params: dict[str, t.Any]) -> dict[str, t.Any]:
        return {"action": "decline"}  # never asked: the task fails first

    with mcp.test_client(app, protocol_version=MODERN, elicitation=decline) as c:
        task = c.call_tool_as_task(tool)
        started = time.monotonic()
        while (found := c.get_task(task["taskId"]))["status"] == "working":
            assert time.monotonic() - started < 3, "the task did not fail promptly"
            time.sleep(0.02)
    assert found["status"] == "failed"
    assert found["error"]["code"] == -32603
    assert found["error"]["message"] == (
        f"The task's {what} is not JSON:"
        " Object of type datetime is not JSON serializable"
    )
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]


class Ends:
    """A lifecycle whose ``end`` raises ``errors`` in turn, then records."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def end(self, task_id: str, leg: int, owner: str, ending: t.Any) -> t.Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return ending


def end_leg(lifecycle: Ends) -> None:
    runner = LegRunner(
        t.cast(t.Any, None),
        t.cast(t.Any, lifecycle),
        open_auth=lambda sealed, task_id: None,
        scope=lambda auth: t.cast(t.Any, None),
        patience=60.0,
    )
    runner._end(task_record(), "me", Completed({"content": []}))


def test_only_the_stores_errors_are_waited_out() -> None:
    held = Ends(LockTimeout("task:t1", 10.0))
    end_leg(held)
    assert held.calls == 2  # the lock was free on the second try
    broken = Ends(TypeError("a bug"), TypeError("a bug"))
    started = time.monotonic()
    with pytest.raises(TypeError, match="a bug"):
        end_leg(broken)
    assert broken.calls == 1 and time.monotonic() - started < 1


@pytest.mark.parametrize("ttl", [float("inf"), float("-inf"), float("nan")])
def test_a_ttl_that_is_not_a_finite_number_is_invalid(
    mcp: FlaskMCP, app: Flask, ttl: float, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with mcp.test_client(app, protocol_version=LEGACY) as c:
        with pytest.raises(MCPError) as refused:  # sent as JSON's Infinity, NaN
            c.call_tool_as_task("job", {"x": 1}, ttl=t.cast(int, ttl))
        assert c.call_tool_as_task("job", {"x": 1}, ttl=5000)["status"] == "working"
    assert refused.value.code == -32602
    assert refused.value.message == "Invalid params: task.ttl must be milliseconds >= 0"
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
