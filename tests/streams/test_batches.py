"""2025-03-26 batches are bounded in messages and in time, and past a bound
the answer is a JSON-RPC error, never a worker timeout or an HTML 500."""

from __future__ import annotations

import json
import time
import typing as t

import pytest
from flask import Flask

from flask_mcp import FlaskMCP

HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-03-26",
}


@pytest.fixture
def app(tmp_path: t.Any) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(MCP_BATCH_MAX_ITEMS=5, MCP_BATCH_TIMEOUT=0.25)
    mcp = FlaskMCP(app)

    @mcp.tool()
    def nap() -> str:
        """Sleep a tenth of a second."""
        time.sleep(0.1)
        return "rested"

    return app


def session(client: t.Any) -> dict[str, str]:
    body = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": "2025-03-26", "capabilities": {}},
    }
    response = client.post("/mcp", data=json.dumps(body), headers=HEADERS)
    return {**HEADERS, "Mcp-Session-Id": response.headers["Mcp-Session-Id"]}


def naps(count: int) -> list[dict[str, t.Any]]:
    return [
        {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": "nap"}}
        for n in range(count)
    ]


def test_a_batch_over_the_item_limit_is_refused(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/mcp", data=json.dumps(naps(6)), headers=session(client))
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == -32600
    assert "at most 5 messages, not 6" in error["message"]


def test_requests_past_the_time_limit_get_an_error_each(app: Flask) -> None:
    client = app.test_client()
    headers = session(client)
    started = time.monotonic()
    response = client.post("/mcp", data=json.dumps(naps(5)), headers=headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    answers = {answer["id"]: answer for answer in response.get_json()}
    assert sorted(answers) == [0, 1, 2, 3, 4]
    ran = [n for n, answer in answers.items() if "result" in answer]
    skipped = [n for n, answer in answers.items() if "error" in answer]
    # 0.25 s: three naps start at most (fewer on a busy machine), in order.
    assert 1 <= len(ran) <= 3 and ran + skipped == [0, 1, 2, 3, 4]
    for n in skipped:
        error = answers[n]["error"]
        assert error["code"] == -32603
        assert "Batch time limit (0.25 s) reached" in error["message"]
    assert elapsed < 1
