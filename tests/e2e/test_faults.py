"""Faults under gunicorn: a worker killed mid-stream, and what clients see.

A request whose worker dies must be answered on resume with a JSON-RPC error
within a bounded time, so clients stop reconnecting; the other requests and
sessions carry on.
"""

from __future__ import annotations

import json
import os
import signal
import time
import typing as t
from pathlib import Path

import pytest
import requests

from support import GunicornServer

APPS = Path(__file__).parent / "apps"
ACCEPT = "application/json, text/event-stream"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[GunicornServer]:
    env = {
        "FAULT_APP_INSTANCE": str(tmp_path_factory.mktemp("fault-instance")),
        "MCP_STORE_URL": None,
    }
    with GunicornServer(
        app="fault_app:create_app()", env=env, workers=2, args=("--chdir", str(APPS))
    ) as srv:
        yield srv


def _post(url: str, body: dict[str, t.Any], headers: dict[str, str], **kw: t.Any):
    return requests.post(
        url,
        data=json.dumps(body),
        headers={"Accept": ACCEPT, "Content-Type": "application/json", **headers},
        timeout=30,
        **kw,
    )


def _session(url: str) -> dict[str, str]:
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {},
        },
    }
    response = _post(url, init, {})
    headers = {
        "Mcp-Session-Id": response.headers["Mcp-Session-Id"],
        "MCP-Protocol-Version": "2025-11-25",
    }
    _post(url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, headers)
    return headers


def _call(name: str, request_id: t.Any, **params: t.Any) -> dict[str, t.Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, **params},
    }


def _eventually(check: t.Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _events(response: requests.Response) -> t.Iterator[tuple[str | None, t.Any]]:
    event_id, data = None, []
    for raw in response.iter_lines():
        line = raw.decode()
        if not line:
            if data:
                yield event_id, json.loads("\n".join(data))
            elif event_id:
                yield event_id, None
            event_id, data = None, []
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:") and line[5:].strip():
            data.append(line[5:].strip())


def test_a_request_whose_worker_was_killed_is_answered_on_resume(
    server: GunicornServer,
) -> None:
    url = server.url + "/mcp"
    headers = _session(url)
    call = _call(
        "slow", "slow-1", arguments={"seconds": 60}, _meta={"progressToken": "p"}
    )
    stream = _post(url, call, headers, stream=True)
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    last_id, pid = None, None
    for event_id, message in _events(stream):
        last_id = event_id or last_id
        if message and message.get("method") == "notifications/progress":
            pid = int(message["params"]["message"].split()[1])
            break
    assert pid in server.pids() and last_id
    os.kill(pid, signal.SIGKILL)
    stream.close()

    started = time.monotonic()
    resumed = requests.get(
        url,
        headers={**headers, "Accept": "text/event-stream", "Last-Event-ID": last_id},
        stream=True,
        timeout=30,
    )
    assert resumed.status_code == 200
    messages = [m for _, m in _events(resumed) if m is not None]
    elapsed = time.monotonic() - started
    final = messages[-1]
    assert final["id"] == "slow-1"
    assert final["error"]["code"] == -32603
    assert "stopped" in final["error"]["message"]
    assert elapsed < 12, elapsed  # the lease lapses in ~6 s, not the 25 s hold

    # A second resume (the client retrying) gets the same answer at once.
    started = time.monotonic()
    again = requests.get(
        url,
        headers={**headers, "Accept": "text/event-stream", "Last-Event-ID": last_id},
        stream=True,
        timeout=30,
    )
    assert [m for _, m in _events(again) if m][-1] == final
    assert time.monotonic() - started < 3
    # The session and the surviving worker carry on.
    quick = _call("quick", 2)
    assert _post(url, quick, headers).json()["result"]["content"][0]["text"] == "quick"


def test_a_resume_of_an_unknown_stream_ends_at_once(server: GunicornServer) -> None:
    url = server.url + "/mcp"
    headers = _session(url)
    started = time.monotonic()
    resumed = requests.get(
        url,
        headers={
            **headers,
            "Accept": "text/event-stream",
            "Last-Event-ID": "nosuchstream.3",
        },
        stream=True,
        timeout=30,
    )
    assert resumed.status_code == 200
    assert [m for _, m in _events(resumed) if m] == []
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "value", ["٣.١", "abc.1" + "9" * 4000, "a.1e5", "../x.1", "x.-1", "x." + "١" * 3]
)
def test_malformed_last_event_id_is_bad_request(
    server: GunicornServer, value: str
) -> None:
    url = server.url + "/mcp"
    headers = _session(url)
    response = requests.get(
        url,
        headers={
            **headers,
            "Accept": "text/event-stream",
            "Last-Event-ID": value.encode("utf-8").decode("latin-1"),
        },
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32600


def test_an_unanswered_question_times_out_as_a_tool_error(
    tmp_path: Path,
) -> None:
    env = {
        "FAULT_APP_INSTANCE": str(tmp_path / "instance"),
        "MCP_STORE_URL": None,
        "MCP_REQUEST_TIMEOUT": "1",
    }
    with GunicornServer(
        app="fault_app:create_app()", env=env, workers=2, args=("--chdir", str(APPS))
    ) as srv:
        url = srv.url + "/mcp"
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {"elicitation": {}},
                "clientInfo": {},
            },
        }
        response = _post(url, init, {})
        headers = {
            "Mcp-Session-Id": response.headers["Mcp-Session-Id"],
            "MCP-Protocol-Version": "2025-11-25",
        }
        call = _call("ask", 7)
        messages = [m for _, m in _events(_post(url, call, headers, stream=True)) if m]
        assert messages[0]["method"] == "elicitation/create"  # asked, never answered
        result = messages[-1]["result"]
        assert result["isError"] is True
        text = result["content"][0]["text"]
        assert "did not answer elicitation/create within 1 s" in text
        log = srv.log()
    assert "Traceback" not in log
    assert "did not answer elicitation/create" in log


# ---------------------------------------------------------------------------
# the store fails: Redis stopped, frozen, restarted


@pytest.fixture
def redis_backed(
    tmp_path: Path,
) -> t.Iterator[tuple[GunicornServer, t.Any]]:
    from support import RedisServer

    with RedisServer() as redis:
        env = {
            "FAULT_APP_INSTANCE": str(tmp_path / "instance"),
            "MCP_STORE_URL": redis.url,
            "MCP_STORE_TIMEOUT": "1",
        }
        with GunicornServer(
            app="fault_app:create_app()",
            env=env,
            workers=2,
            args=("--chdir", str(APPS)),
        ) as srv:
            yield srv, redis


def _assert_unavailable(response: requests.Response, request_id: t.Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["error"]["code"] == -32603
    assert "store" in body["error"]["message"]
    if request_id is not None:
        assert body["id"] == request_id


def test_a_stopped_redis_gives_503_and_recovery_needs_no_restart(
    redis_backed: tuple[GunicornServer, t.Any],
) -> None:
    srv, redis = redis_backed
    url = srv.url + "/mcp"
    headers = _session(url)
    quick = _call("quick", 3)
    assert _post(url, quick, headers).status_code == 200
    redis.stop()
    for _ in range(6):  # both workers, several requests each
        _assert_unavailable(_post(url, quick, headers), 3)
    init = {"jsonrpc": "2.0", "id": "i", "method": "initialize", "params": {}}
    _assert_unavailable(_post(url, init, {}), "i")
    redis.start()  # an empty Redis (no persistence here): sessions start over
    # Each worker's own probe closes its circuit: every worker that logged
    # the outage logs its end, and then any worker answers.
    _eventually(lambda: _outages_ended(srv.log()), "no recovery after Redis came back")
    headers = _session(url)
    for _ in range(4):
        assert _post(url, quick, headers).status_code == 200
    log = srv.log()
    assert "Traceback" not in log
    # One warning per outage and worker, not one per request.
    assert 1 <= log.count(" is unavailable (") <= 2, log


def _outages_ended(log: str) -> bool:
    return log.count(" is available again after ") == log.count(" is unavailable (")


def test_a_frozen_redis_gives_503_within_the_timeout(
    redis_backed: tuple[GunicornServer, t.Any],
) -> None:
    srv, redis = redis_backed
    url = srv.url + "/mcp"
    headers = _session(url)
    quick = _call("quick", 4)
    os.kill(redis.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        _assert_unavailable(_post(url, quick, headers), 4)
        assert time.monotonic() - started < 5
    finally:
        os.kill(redis.pid, signal.SIGCONT)
    _eventually(
        lambda: _post(url, quick, headers).status_code == 200,
        "no recovery after Redis was thawed",
    )
    assert "Traceback" not in srv.log()


def test_a_store_failure_mid_stream_ends_the_stream_with_an_error(
    redis_backed: tuple[GunicornServer, t.Any],
) -> None:
    srv, redis = redis_backed
    url = srv.url + "/mcp"
    headers = _session(url)
    call = _call("slow", "s", arguments={"seconds": 30}, _meta={"progressToken": 1})
    stream = _post(url, call, headers, stream=True)
    events = _events(stream)
    for _, message in events:
        if message and message.get("method") == "notifications/progress":
            break
    started = time.monotonic()
    redis.stop()
    final = None
    for _, message in events:
        if message and "method" not in message:
            final = message
            break
    assert final is not None and final["id"] == "s"
    assert final["error"]["code"] == -32603
    assert time.monotonic() - started < 5  # at once, not after the tool's 30 s
    redis.start()
    assert "Traceback" not in srv.log()
