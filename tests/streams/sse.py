"""A blocking SSE client for the held-stream tests: one request, its events
read by a thread as they arrive, from a chosen loopback source address."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
import typing as t
from dataclasses import dataclass

MODERN = "2026-07-28"
LEGACY = "2025-11-25"


@dataclass
class Event:
    id: str | None
    retry: int | None
    data: t.Any  # the decoded JSON message, or None for an empty event


class Stream:
    """``method`` on ``/mcp``; ``.events`` fills while the body arrives."""

    def __init__(
        self,
        port: int,
        method: str,
        headers: dict[str, str],
        body: t.Any = None,
        source: str = "127.0.0.1",
        timeout: float = 30.0,
    ) -> None:
        self.connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=timeout, source_address=(source, 0)
        )
        payload = json.dumps(body).encode() if body is not None else None
        self.connection.request(method, "/mcp", body=payload, headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.events: list[Event] = []
        self.ended = threading.Event()
        self.error: BaseException | None = None
        if self.response.getheader("Content-Type", "").startswith("text/event-stream"):
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.body = self.response.read()
            self.connection.close()
            self.ended.set()

    def json(self) -> t.Any:
        return json.loads(self.body)

    def _read(self) -> None:
        event_id: str | None = None
        retry: int | None = None
        data: list[str] = []
        try:
            while True:
                raw = self.response.readline()
                if not raw:
                    break
                line = raw.decode().rstrip("\r\n")
                if line == "":
                    if data or event_id is not None or retry is not None:
                        text = "\n".join(data).strip()
                        decoded = json.loads(text) if text else None
                        self.events.append(Event(event_id, retry, decoded))
                    event_id, retry, data = None, None, []
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "id":
                    event_id = value
                elif name == "retry":
                    retry = int(value)
                elif name == "data":
                    data.append(value)
        except BaseException as exc:  # noqa: BLE001 - reported through .error
            self.error = exc
        finally:
            self.connection.close()
            self.ended.set()

    def messages(self) -> list[dict[str, t.Any]]:
        return [e.data for e in self.events if e.data is not None]

    def methods(self) -> list[str]:
        return [m.get("method", "<response>") for m in self.messages()]

    def wait_for(
        self, predicate: t.Callable[[Stream], bool], timeout: float = 10
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout} s; events: {self.events}")
            if self.ended.is_set() and not predicate(self):
                raise AssertionError(f"the stream ended; events: {self.events}")
            time.sleep(0.01)

    def wait_end(self, timeout: float = 10) -> float:
        started = time.monotonic()
        if not self.ended.wait(timeout):
            raise AssertionError(f"still open after {timeout} s; events: {self.events}")
        return time.monotonic() - started

    def close(self) -> None:
        """Hang up now: shut the socket first, else closing waits for the
        reading thread's next line (a quiet stream's next keep-alive)."""
        sock = self.connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def modern_headers(
    method: str, name: str | None = None, **extra: str
) -> dict[str, str]:
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": method,
        **extra,
    }
    if name is not None:
        headers["Mcp-Name"] = name
    return headers


def modern(method: str, params: dict[str, t.Any], request_id: t.Any = 1) -> dict:
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": method,
        "params": {**params, "_meta": meta},
    }


def listen(
    port: int,
    request_id: t.Any = "listen-1",
    source: str = "127.0.0.1",
    notifications: dict[str, t.Any] | None = None,
    **headers: str,
) -> Stream:
    body = modern(
        "subscriptions/listen",
        {"notifications": notifications or {"toolsListChanged": True}},
        request_id,
    )
    return Stream(
        port, "POST", modern_headers("subscriptions/listen", **headers), body, source
    )


def call(port: int, tool: str, arguments: dict[str, t.Any], **headers: str) -> Stream:
    body = modern("tools/call", {"name": tool, "arguments": arguments})
    return Stream(port, "POST", modern_headers("tools/call", tool, **headers), body)


class Session:
    """A 2025-11-25 session opened with ``initialize``."""

    def __init__(
        self,
        port: int,
        source: str = "127.0.0.1",
        capabilities: dict[str, t.Any] | None = None,
        **headers: str,
    ) -> None:
        self.port = port
        self.source = source
        self.extra = headers
        opened = self.post(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": LEGACY,
                    "capabilities": capabilities or {},
                    "clientInfo": {"name": "t", "version": "1"},
                },
            },
            session=False,
        )
        assert opened.status == 200, opened.body
        self.id = opened.response.getheader("Mcp-Session-Id")
        self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def headers(self, accept: str, session: bool = True) -> dict[str, str]:
        headers = {"Accept": accept, "MCP-Protocol-Version": LEGACY, **self.extra}
        if session:
            headers["Mcp-Session-Id"] = self.id
        return headers

    def post(self, message: dict[str, t.Any], session: bool = True) -> Stream:
        headers = self.headers("application/json, text/event-stream", session)
        headers["Content-Type"] = "application/json"
        return Stream(self.port, "POST", headers, message, self.source)

    def get(self, last_event_id: str | None = None) -> Stream:
        headers = self.headers("text/event-stream")
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        return Stream(self.port, "GET", headers, source=self.source)
