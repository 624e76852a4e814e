"""The fixtures the conformance suite's tasks scenarios call, by its names.

They are ordinary task tools: ``task="optional"`` lets the server run a call
as a task when the client can follow one (the 2026-07-28 extension, or a
2025-11-25 ``params.task``), ``task="required"`` always does. A question
asked inside a task makes it ``input_required`` until the client answers;
the handler then runs again from the top with the answer, so each asks
before it acts.
"""

from __future__ import annotations

import time
import typing as t

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp import ToolError
from flask_mcp.protocol.inputs import elicitation
from flask_mcp.protocol.jsonrpc import INTERNAL_ERROR
from flask_mcp.protocol.jsonrpc import JsonRpcError

from .modern_fixtures import NAME_SCHEMA

CONFIRM_SCHEMA = {
    "type": "object",
    "properties": {"confirm": {"type": "boolean"}, "name": {"type": "string"}},
}


def _content(answer: dict[str, t.Any]) -> dict[str, t.Any]:
    content = answer.get("content") if answer.get("action") == "accept" else None
    return content if isinstance(content, dict) else {}


def register(mcp: FlaskMCP) -> None:
    """Add the tasks fixtures to ``mcp``."""

    @mcp.tool()
    def greet(name: str) -> str:
        """Greets by name, at once (never a task)."""
        return f"Hello, {name}!"

    @mcp.tool(task="optional")
    def slow_compute(ctx: Context, seconds: float = 1, label: str = "result") -> str:
        """Works for ``seconds`` seconds (stopping when cancelled), then
        reports its label; runs as a task when the client can follow one."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ctx.cancelled:
                return f"{label}: cancelled"
            ctx.report_progress(seconds - (deadline - time.monotonic()), seconds)
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return f"computed:{label}"

    @mcp.tool(task="required")
    def failing_job() -> str:
        """Works for a second, then reports a tool error (a completed task
        whose result has ``isError``)."""
        time.sleep(1)
        raise ToolError("The job failed: the input could not be processed")

    @mcp.tool(task="optional")
    def protocol_error_job() -> str:
        """Fails with a JSON-RPC error (a failed task, with the error)."""
        raise JsonRpcError(INTERNAL_ERROR, "The job broke down: its backend is gone")

    @mcp.tool(task="optional")
    def confirm_delete(ctx: Context, filename: str = "file.txt") -> str:
        """Asks to confirm the deletion, then reports it."""
        answer = ctx.elicit(f"Delete {filename}?", CONFIRM_SCHEMA, key="confirm")
        content = _content(answer)
        if not content.get("confirm", answer.get("action") == "accept"):
            return f"kept:{filename}"
        return f"deleted:{content.get('name') or filename}"

    @mcp.tool(task="optional")
    def multi_input(ctx: Context) -> str:
        """Asks two questions at once; both stay open until answered."""
        answers = ctx.ask(
            {
                "first": elicitation("First value?", NAME_SCHEMA),
                "second": elicitation("Second value?", NAME_SCHEMA),
            }
        )
        first, second = (_content(answers[k]).get("name") for k in ("first", "second"))
        return f"Got {first} and {second}"

    @mcp.tool(task="required", ask_first=True)
    def test_tool_with_task(ctx: Context) -> str:
        """Asks the user's name on the call itself, then greets them from a
        task (the work starts only once the question is answered)."""
        answer = ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
        ctx.start_task()
        return f"Hello, {_content(answer).get('name')}! (from a task)"
