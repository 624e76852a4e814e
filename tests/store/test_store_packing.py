"""What 1,000 streamed 2025 calls leave in the default file store: a
database of a few hundred kilobytes, not a file per event (issue 14)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP

CALLS = 1000
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def test_streamed_calls_leave_a_few_files(tmp_path: Path) -> None:
    app = Flask("packing", instance_path=str(tmp_path / "instance"))
    mcp = FlaskMCP(app)

    @mcp.tool
    def steps(ctx: Context) -> str:
        """Report two steps of progress, then answer."""
        ctx.report_progress(1, 2)
        ctx.report_progress(2, 2)
        return "done"

    client = app.test_client()
    opened = client.post(
        "/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        },
        headers=HEADERS,
    )
    headers = {**HEADERS, "Mcp-Session-Id": opened.headers["Mcp-Session-Id"]}
    started = time.monotonic()
    for n in range(1, CALLS + 1):
        response = client.post(
            "/mcp",
            json={
                "jsonrpc": "2.0",
                "id": n,
                "method": "tools/call",
                "params": {
                    "name": "steps",
                    "arguments": {},
                    "_meta": {"progressToken": n},
                },
            },
            headers=headers,
        )
        assert response.mimetype == "text/event-stream"
        messages = [
            json.loads(line[5:])
            for line in response.get_data(as_text=True).splitlines()
            if line.startswith("data:") and line[5:].strip()
        ]
        assert messages[-1]["result"]["content"][0]["text"] == "done"
    elapsed = time.monotonic() - started
    folder = tmp_path / "instance" / "flask_mcp"
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) <= 3, sorted(p.name for p in files)  # the database, -wal, -shm
    used = sum(p.stat().st_blocks * 512 for p in files)
    assert used < 8 * 1024 * 1024, used  # 5,000 files took 20 MB
    assert elapsed < 120
