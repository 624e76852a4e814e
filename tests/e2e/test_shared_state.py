"""Session state lives in the store, not in a gunicorn worker's memory.

Two sync workers, raw HTTP, once on the file store and once on Redis. The
access log records which worker (pid) served each request of a session, so
the tests can show that both workers served it. A restart replaces both
workers: the session, its log level and its event log must survive.
"""

from __future__ import annotations

import json
import re
import threading
import time
import typing as t

import pytest
import requests

from support import GunicornServer

BOTH = "application/json, text/event-stream"
SSE_TYPE = "text/event-stream"
VERSION = "2025-11-25"
ACCESS_LOG = [
    "--access-logfile",
    "-",
    "--access-logformat",
    "ACCESS pid=%(p)s %(m)s %(s)s session=%({mcp-session-id}i)s",
]
ACCESS_LINE = re.compile(r"ACCESS pid=<(\d+)> (\w+) (\d+) session=(\S*)")
LOG_MESSAGES = [
    "Tool execution started",
    "Tool processing data",
    "Tool execution completed",
]


@pytest.fixture(scope="module", params=["file", "redis"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The example app on 2 workers, with an access log naming the worker's pid."""
    instance = tmp_path_factory.mktemp(f"instance-shared-{request.param}")
    env: dict[str, str | None] = {
        "EXAMPLE_INSTANCE_PATH": str(instance),
        "MCP_STORE_URL": None,
    }
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_server").url
        env["MCP_STORE_URL"] = redis_url.rsplit("/", 1)[0] + "/2"  # own database
    with GunicornServer(env=env, workers=2, args=ACCESS_LOG) as srv:
        yield srv


@pytest.fixture
def url(server: GunicornServer) -> str:
    return server.url + "/mcp"


def post(
    url: str, body: dict, session: str | None = None, **kwargs: t.Any
) -> requests.Response:
    headers = {
        "Accept": BOTH,
        "Content-Type": "application/json",
        "MCP-Protocol-Version": VERSION,
    }
    if session is not None:
        headers["Mcp-Session-Id"] = session
    return requests.post(
        url, data=json.dumps(body), headers=headers, timeout=30, **kwargs
    )


def call(request_id: t.Any, method: str, params: dict | None = None) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": method,
        "params": params or {},
    }


def open_session(url: str, capabilities: dict | None = None) -> str:
    params = {
        "protocolVersion": VERSION,
        "capabilities": capabilities or {},
        "clientInfo": {"name": "shared-state-test", "version": "1"},
    }
    response = post(url, call(0, "initialize", params))
    assert response.status_code == 200, response.text
    session = response.headers["Mcp-Session-Id"]
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert post(url, initialized, session).status_code == 202
    return session


def result_of(response: requests.Response, request_id: t.Any) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json"), (
        response.text
    )
    body = response.json()
    assert body.get("id") == request_id and "result" in body, body
    return body["result"]


def sse_messages(text: str) -> list[tuple[str | None, dict | None]]:
    """(event id, JSON-RPC message or None for a priming event) per SSE event."""
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        fields = dict(
            line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
            for line in block.split("\n")
        )
        data = fields.get("data", "")
        out.append((fields.get("id"), json.loads(data) if data else None))
    return out


def logged_tool_call(url: str, session: str, request_id: int) -> list[str]:
    """Call ``test_tool_with_logging``; return the log messages that got through."""
    response = post(
        url, call(request_id, "tools/call", {"name": "test_tool_with_logging"}), session
    )
    assert response.status_code == 200
    if response.headers["Content-Type"].startswith("application/json"):
        result = result_of(response, request_id)
        logs = []
    else:
        messages = [m for _, m in sse_messages(response.text) if m is not None]
        assert messages[-1]["id"] == request_id
        result = messages[-1]["result"]
        logs = [
            m["params"]["data"]
            for m in messages[:-1]
            if m.get("method") == "notifications/message"
        ]
    assert result["content"][0]["text"] == "Tool with logging executed successfully"
    return logs


def workers_serving(
    server: GunicornServer, session: str, expected: int = 0
) -> list[tuple[int, str, int]]:
    """(pid, HTTP method, status) of each request of ``session``, in log order.

    A worker writes the access log line after the response, so wait (a little)
    until ``expected`` lines are there.
    """
    deadline = time.monotonic() + 5
    while True:
        served = [
            (int(pid), method, int(status))
            for pid, method, status, sid in ACCESS_LINE.findall(server.log())
            if sid == session
        ]
        if len(served) >= expected or time.monotonic() > deadline:
            return served
        time.sleep(0.05)


def test_session_is_usable_from_every_worker(server: GunicornServer, url: str) -> None:
    workers = set(server.pids())
    assert len(workers) == 2
    session = open_session(url)
    result_of(post(url, call(1, "logging/setLevel", {"level": "error"}), session), 1)

    # 20 requests from 2 concurrent clients: while one worker runs a ~100 ms
    # tool call, the other must take the next request.
    failures: list[BaseException] = []
    logs: dict[int, list[str]] = {}

    def client(first_id: int) -> None:
        try:
            for request_id in range(first_id, first_id + 10):
                logs[request_id] = logged_tool_call(url, session, request_id)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in (100, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert len(logs) == 20
    # The "error" level set through one worker filtered "info" on both.
    assert all(messages == [] for messages in logs.values())

    # notifications/initialized, logging/setLevel and the 20 tool calls.
    served = workers_serving(server, session, expected=22)
    assert len(served) == 22
    assert all(status in (200, 202) for _, _, status in served)
    assert {pid for pid, _, _ in served} == workers

    # A change of session state is seen by the next requests, on any worker.
    result_of(post(url, call(2, "logging/setLevel", {"level": "debug"}), session), 2)
    for request_id in range(300, 306):
        assert logged_tool_call(url, session, request_id) == LOG_MESSAGES


def test_sampling_reply_is_taken_by_the_other_worker(
    server: GunicornServer, url: str
) -> None:
    """The worker running the tool is blocked streaming; the reply POST can only
    reach the other worker, which hands it over through the store."""
    session = open_session(url, {"sampling": {}})
    for attempt in range(3):
        request_id = f"sample-{attempt}"
        body = call(
            request_id,
            "tools/call",
            {"name": "test_sampling", "arguments": {"prompt": f"prompt {attempt}"}},
        )
        with post(url, body, session, stream=True) as stream:
            assert stream.status_code == 200
            assert stream.headers["Content-Type"].startswith(SSE_TYPE)
            lines = stream.iter_lines(chunk_size=None, decode_unicode=True)
            sampling = None
            for line in lines:
                if line.startswith("data: {"):
                    sampling = json.loads(line[len("data: ") :])
                    break
            assert sampling is not None
            assert sampling["method"] == "sampling/createMessage"
            assert sampling["params"]["maxTokens"] == 100
            prompt = sampling["params"]["messages"][0]["content"]["text"]
            assert prompt == f"prompt {attempt}"

            reply = {
                "jsonrpc": "2.0",
                "id": sampling["id"],
                "result": {
                    "role": "assistant",
                    "content": {"type": "text", "text": f"answer {attempt}"},
                    "model": "fake",
                },
            }
            accepted = post(url, reply, session)
            assert accepted.status_code == 202

            rest = "\n".join(lines)
        final = [m for _, m in sse_messages(rest) if m is not None][-1]
        assert final["id"] == request_id
        assert (
            final["result"]["content"][0]["text"] == f"LLM response: answer {attempt}"
        )

    # notifications/initialized, then a reply and a tool call per attempt.
    served = workers_serving(server, session, expected=7)
    calls = [
        pid for pid, method, status in served if method == "POST" and status == 200
    ]
    # 202s: notifications/initialized, then one sampling reply per attempt.
    replies = [
        pid for pid, method, status in served if method == "POST" and status == 202
    ][1:]
    assert len(calls) == len(replies) == 3, served
    for call_pid, reply_pid in zip(calls, replies, strict=True):
        assert call_pid != reply_pid


def test_session_survives_a_restart(server: GunicornServer, url: str) -> None:
    session = open_session(url)
    result_of(post(url, call(1, "logging/setLevel", {"level": "debug"}), session), 1)
    result_of(
        post(
            url,
            call(2, "resources/subscribe", {"uri": "test://watched-resource"}),
            session,
        ),
        2,
    )

    # A tool call whose stream is closed early; its result waits in the event log.
    response = post(url, call(3, "tools/call", {"name": "test_reconnection"}), session)
    ((priming_id, priming),) = sse_messages(response.text)
    assert priming_id and priming is None

    def resume() -> dict:
        resumed = requests.get(
            url,
            headers={
                "Accept": SSE_TYPE,
                "Mcp-Session-Id": session,
                "MCP-Protocol-Version": VERSION,
                "Last-Event-ID": priming_id,
            },
            timeout=30,
        )
        assert resumed.status_code == 200
        (final,) = [m for _, m in sse_messages(resumed.text) if m is not None]
        return final

    before = resume()
    assert (
        before["result"]["content"][0]["text"]
        == "Reconnection test completed successfully"
    )

    old_workers = set(server.pids())
    server.restart()
    new_workers = set(server.pids())
    assert new_workers and not new_workers & old_workers

    # Same session, same state, on brand-new processes.
    for request_id in range(10, 14):
        assert result_of(post(url, call(request_id, "ping"), session), request_id) == {}
    assert logged_tool_call(url, session, 20) == LOG_MESSAGES
    assert resume() == before
    result_of(
        post(
            url,
            call(21, "resources/unsubscribe", {"uri": "test://watched-resource"}),
            session,
        ),
        21,
    )

    deleted = requests.delete(
        url,
        headers={"Mcp-Session-Id": session, "MCP-Protocol-Version": VERSION},
        timeout=30,
    )
    assert deleted.status_code == 204
    assert post(url, call(22, "ping"), session).status_code == 404
