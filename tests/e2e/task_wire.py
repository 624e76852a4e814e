"""Raw HTTP for the task tests: 2026-07-28 requests as a conforming client
builds them, a 2025-11-25 session, and polling a task to its end."""

from __future__ import annotations

import json
import time
import typing as t
from pathlib import Path

import requests

E2E_DIR = Path(__file__).resolve().parent
APPS_DIR = E2E_DIR / "apps"
MODERN, LEGACY = "2026-07-28", "2025-11-25"
EXT = "io.modelcontextprotocol/tasks"
TASK_CAPABILITIES = {"extensions": {EXT: {}}, "elicitation": {}}
TERMINAL = {"completed", "failed", "cancelled"}
ACCEPT = "application/json, text/event-stream"
NAMED = {"tools/call": "name", "tasks/get": "taskId", "tasks/update": "taskId"}
NAMED["tasks/cancel"] = "taskId"


def modern(
    url: str,
    method: str,
    params: dict[str, t.Any] | None = None,
    *,
    key: str | None = None,
    capabilities: dict[str, t.Any] | None = None,
    request_id: t.Any = 1,
    stream: bool = False,
) -> requests.Response:
    params = dict(params or {})
    params["_meta"] = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": (
            TASK_CAPABILITIES if capabilities is None else capabilities
        ),
    }
    body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    headers = {
        "Accept": ACCEPT,
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": method,
    }
    if method in NAMED:
        headers["Mcp-Name"] = str(params[NAMED[method]])
    if key is not None:
        headers["X-API-Key"] = key
    return requests.post(
        url, data=json.dumps(body), headers=headers, timeout=30, stream=stream
    )


def result(response: requests.Response) -> dict[str, t.Any]:
    message = response.json()
    assert response.status_code == 200 and "result" in message, (
        response.status_code,
        message,
    )
    return t.cast(dict, message["result"])


def error(response: requests.Response) -> tuple[int, dict[str, t.Any]]:
    message = response.json()
    assert "error" in message, message
    return response.status_code, t.cast(dict, message["error"])


def start(url: str, tool: str, arguments: dict | None = None, **kwargs: t.Any) -> str:
    """Call a task tool (2026-07-28, extension declared); its task id."""
    created = result(
        modern(
            url, "tools/call", {"name": tool, "arguments": arguments or {}}, **kwargs
        )
    )
    assert created["resultType"] == "task", created
    return t.cast(str, created["taskId"])


def get(url: str, task_id: str, **kwargs: t.Any) -> dict[str, t.Any]:
    return result(modern(url, "tasks/get", {"taskId": task_id}, **kwargs))


def wait(
    url: str,
    task_id: str,
    until: t.Callable[[dict], bool] = lambda task: task["status"] in TERMINAL,
    timeout: float = 20.0,
    unavailable_ok: bool = False,
    **kwargs: t.Any,
) -> dict[str, t.Any]:
    """Poll the task until ``until``; with ``unavailable_ok``, a 503 (the
    store recovering) is polled through."""
    deadline = time.monotonic() + timeout
    while True:
        response = modern(url, "tasks/get", {"taskId": task_id}, **kwargs)
        if unavailable_ok and response.status_code == 503:
            assert response.headers["Retry-After"]
            assert time.monotonic() < deadline, "the store never came back"
            time.sleep(0.5)
            continue
        task = result(response)
        if until(task):
            return task
        assert time.monotonic() < deadline, f"task still {task}"
        time.sleep(0.1)


def wait_for_file(path: Path, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return path.read_text()


class LegacySession:
    """A 2025-11-25 session over raw HTTP."""

    def __init__(self, url: str, key: str | None = None) -> None:
        self.url = url
        self.headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        if key is not None:
            self.headers["X-API-Key"] = key
        init = self.post(
            "initialize",
            {
                "protocolVersion": LEGACY,
                "capabilities": {"elicitation": {}},
                "clientInfo": {"name": "tests", "version": "1"},
            },
        )
        assert init.status_code == 200, init.text
        self.headers["Mcp-Session-Id"] = init.headers["Mcp-Session-Id"]
        self.headers["MCP-Protocol-Version"] = LEGACY
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        requests.post(url, data=json.dumps(note), headers=self.headers, timeout=10)

    def post(
        self, method: str, params: dict, request_id: t.Any = 1
    ) -> requests.Response:
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        return requests.post(
            self.url, data=json.dumps(body), headers=self.headers, timeout=30
        )

    def call(self, method: str, params: dict) -> dict[str, t.Any]:
        """The result of a request, following (and resuming) its stream."""
        response = self.post(method, params)
        if not response.headers.get("Content-Type", "").startswith("text/event-stream"):
            return result(response)
        for _ in range(30):
            last_id = None
            for event_id, message in events(response):
                last_id = event_id or last_id
                if message is not None and "method" not in message:
                    assert "result" in message, message
                    return t.cast(dict, message["result"])
            assert last_id is not None, "the stream ended without a response"
            headers = {**self.headers, "Accept": "text/event-stream"}
            headers["Last-Event-ID"] = last_id
            response = requests.get(self.url, headers=headers, timeout=60)
        raise AssertionError("no response after 30 resumed streams")

    def stream(self) -> requests.Response:
        headers = {**self.headers, "Accept": "text/event-stream"}
        return requests.get(self.url, headers=headers, stream=True, timeout=30)


def events(response: requests.Response) -> t.Iterator[tuple[str | None, dict | None]]:
    """``(event id, message)`` of each SSE event (message ``None`` if empty)."""
    for block in response.text.split("\n\n"):
        lines = block.splitlines()
        ids = [line[3:].strip() for line in lines if line.startswith("id:")]
        data = [line[5:].strip() for line in lines if line.startswith("data:")]
        payload = "\n".join(data)
        if ids or payload:
            yield (ids[-1] if ids else None), (json.loads(payload) if payload else None)


def sse(response: requests.Response, count: int, timeout: float = 20.0) -> list[dict]:
    """The first ``count`` JSON messages of an SSE response."""
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    for line in response.iter_lines(decode_unicode=True):
        if line and line.startswith("data:") and line[5:].strip():
            messages.append(json.loads(line[5:]))
            if len(messages) >= count:
                break
        assert time.monotonic() < deadline, messages
    return messages
