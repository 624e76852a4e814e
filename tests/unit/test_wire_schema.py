"""The MCP schema of each era, as the test client checks it (``mcp-types``).

These need the ``testing`` extra; ``make test-min`` (pydantic 2.0, which
``mcp-types`` does not allow) leaves this module out. What needs only
jsonschema is in ``test_results_wire.py``.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp import ToolResult
from flask_mcp.wire_check import WireChecker
from flask_mcp.wire_check import WireViolation

VERSIONS = ["2025-11-25", "2026-07-28"]


def test_the_schema_is_the_era_s(tmp_path: Path) -> None:
    """2025-11-25 wants an object as structuredContent; 2026-07-28 any value."""
    mcp = FlaskMCP(name="eras", version="1")

    @mcp.tool
    def listed_structure():  # type: ignore[no-untyped-def]
        return ToolResult(content=["x"], structured=t.cast(t.Any, ["a", "list"]))

    app = Flask("eras", instance_path=str(tmp_path))
    mcp.init_app(app)
    with mcp.test_client(app, protocol_version="2025-11-25") as client:
        with pytest.raises(WireViolation, match="MCP 2025-11-25 schema"):
            client.call_tool("listed_structure")
    with mcp.test_client(app, protocol_version="2026-07-28") as client:
        assert client.call_tool("listed_structure")["structuredContent"] == [
            "a",
            "list",
        ]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_checker_rejects_what_clients_rejected(version: str) -> None:
    checker = WireChecker(version)
    extra = {"resultType": "complete"} if version == "2026-07-28" else {}
    checker.result("tools/call", {"content": [{"type": "text", "text": "ok"}], **extra})
    with pytest.raises(WireViolation, match="a real client rejects it"):
        checker.result(
            "tools/call", {"content": [{"type": "invoice", "total": 3}], **extra}
        )
    checker.result("x-custom/method", {"anything": True})  # not the schema's
    with pytest.raises(WireViolation, match="does not define"):
        checker.notification({"method": "notifications/made_up", "params": {}})
    with pytest.raises(WireViolation, match="does not define"):
        checker.question({"method": "made_up/ask", "id": 1, "params": {}})


def test_notifications_and_questions_are_checked() -> None:
    checker = WireChecker("2025-11-25")
    checker.notification(
        {"method": "notifications/message", "params": {"level": "info", "data": 1}}
    )
    with pytest.raises(WireViolation, match="notifications/message"):
        checker.notification(
            {"method": "notifications/message", "params": {"level": "loud"}}
        )
    with pytest.raises(WireViolation, match="sampling/createMessage"):
        checker.question(
            {"method": "sampling/createMessage", "id": 1, "params": {"x": 1}}
        )
