"""What only a real server shows of the HTTP edge cases: gunicorn's workers.

The rest of the raw-HTTP refusals run in-process (``test_http_errors.py``);
here, on two sync workers: a tool's unexpected exception is logged and kills
no worker, and a chunked body over ``MCP_MAX_BODY`` (which only a real
server receives as chunks) is refused with 413.
"""

from __future__ import annotations

import json
import time
import typing as t
from pathlib import Path

import pytest
import requests
from e2e.apps.failing_app import SECRET

from support import GunicornServer

APPS = Path(__file__).parent / "apps"
BOTH = "application/json, text/event-stream"
VERSION = "2025-11-25"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[GunicornServer]:
    env = {
        "EXAMPLE_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance-limited")),
        "MCP_STORE_URL": None,
    }
    with GunicornServer(
        app="failing_app:create_app()",
        env=env,
        workers=2,
        args=["--chdir", str(APPS)],
    ) as srv:
        yield srv


def post(
    server: GunicornServer, body: t.Any, session: str | None = None
) -> requests.Response:
    headers = {"Accept": BOTH, "Content-Type": "application/json"}
    if session is not None:
        headers.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": VERSION})
    data = json.dumps(body) if isinstance(body, dict) else body
    return requests.post(server.mcp_url, data=data, headers=headers, timeout=30)


def open_session(server: GunicornServer) -> str:
    params = {
        "protocolVersion": VERSION,
        "capabilities": {},
        "clientInfo": {"name": "raw-http-test", "version": "1"},
    }
    response = post(
        server, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}
    )
    assert response.status_code == 200, response.text
    session = response.headers["Mcp-Session-Id"]
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert post(server, initialized, session).status_code == 202
    return session


@pytest.mark.parametrize("tool", ["explode", "explode_while_streaming"])
def test_an_unexpected_exception_is_logged_and_kills_no_worker(
    server: GunicornServer, tool: str
) -> None:
    workers = server.pids()
    session = open_session(server)
    call = {"name": tool, "arguments": {}}
    response = post(
        server,
        {"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": call},
        session,
    )
    assert response.status_code == 200
    assert '"isError": true' in response.text or '"isError":true' in response.text
    assert SECRET not in response.text

    deadline = time.monotonic() + 5
    while f"tool '{tool}' raised" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"tool '{tool}' raised" in server.log()
    assert f"RuntimeError: {SECRET}" in server.log()
    # Both workers still answer, and none was replaced.
    for i in range(6):
        ping = post(server, {"jsonrpc": "2.0", "id": i, "method": "ping"}, session)
        assert ping.json() == {"jsonrpc": "2.0", "id": i, "result": {}}
    assert server.pids() == workers


def test_a_chunked_body_over_the_limit_is_payload_too_large(
    server: GunicornServer,
) -> None:
    session = open_session(server)
    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
    response = post(server, iter([ping, b" " * 600, b" " * 600]), session)
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == -32600
