"""Simulated MCP clients that hold connections, for load runs (asyncio).

Each client is a coroutine with its own loopback source address
(``127.0.x.y``), so per-address limits see as many clients as there are,
and its own keep-alive connection, as the official SDKs keep one:

* :class:`IdleClient`: a 2025-11-25 client doing nothing: ``initialize``,
  ``notifications/initialized``, then the official Python client's GET loop
  as ``mcp`` 2.3 runs it (``StreamableHTTPTransport.handle_get_stream``):
  reopen the stream when it ends, after the server's ``retry`` (1 s when
  none), with ``Last-Event-ID``; two failed attempts in a row and it gives
  up for good;
* :class:`Listener`: a 2026-07-28 client whose application keeps one
  ``subscriptions/listen`` open for list changes: after the server's
  graceful end (the listen result) it listens again at once; after a 429 or
  503 it waits ``Retry-After``;
* :class:`Caller`: calls one tool in a loop and records each latency.

Nothing here imports flask_mcp: point it at any server (gunicorn, a
gateway). Every loop is bounded by :class:`Clock` (a deadline) and every
read by a timeout. The bare HTTP/1.1 client handles what the servers send:
``Content-Length`` and chunked bodies, ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
#: The official Python client's GET loop (mcp.client.streamable_http).
DEFAULT_RECONNECTION_DELAY_MS = 1000
MAX_RECONNECTION_ATTEMPTS = 2
#: Seconds any single read may wait (a held stream sends keep-alives).
READ_TIMEOUT = 60.0

_ids = itertools.count(1)


def source_address(index: int, base: int = 1) -> str:
    """The ``index``-th loopback address of a block: ``127.<base>.0.1``,
    ``127.<base>.0.2``... (250 per third byte, 64,000 per block)."""
    if not 0 <= index < 250 * 256:
        raise ValueError(f"no loopback address number {index}")
    return f"127.{base}.{index // 250}.{index % 250 + 1}"


class Clock:
    """A shared deadline: every loop of every client ends by it."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.stopped = asyncio.Event()

    @property
    def done(self) -> bool:
        return self.stopped.is_set() or time.monotonic() >= self.deadline

    def stop(self) -> None:
        self.stopped.set()

    async def sleep(self, seconds: float) -> None:
        remaining = min(seconds, self.deadline - time.monotonic())
        if remaining > 0:
            try:
                await asyncio.wait_for(self.stopped.wait(), remaining)
            except asyncio.TimeoutError:
                pass


# -- HTTP --------------------------------------------------------------------


class HTTPFailure(Exception):
    pass


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    reader: asyncio.StreamReader
    chunked: bool
    length: int | None
    closing: bool

    async def body(self) -> bytes:
        parts = [chunk async for chunk in self.chunks()]
        return b"".join(parts)

    async def chunks(self) -> t.AsyncIterator[bytes]:
        reader = self.reader
        if self.chunked:
            while True:
                size_line = await _read(reader.readline())
                if not size_line:
                    raise HTTPFailure("connection closed mid-body")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await _read(reader.readline())
                    return
                data = await _read(reader.readexactly(size + 2))
                yield data[:-2]
        elif self.length is not None:
            if self.length:
                yield await _read(reader.readexactly(self.length))
        else:  # until the server closes
            while True:
                data = await _read(reader.read(65536))
                if not data:
                    return
                yield data


async def _read(awaitable: t.Awaitable[t.Any]) -> t.Any:
    try:
        return await asyncio.wait_for(awaitable, READ_TIMEOUT)
    except asyncio.IncompleteReadError as exc:
        raise HTTPFailure("connection closed mid-body") from exc


class Connection:
    """One keep-alive HTTP/1.1 connection from a fixed source address."""

    def __init__(self, url: str, source: str | None) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.source = source
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        headers: dict[str, str],
        body: bytes = b"",
    ) -> Reply:
        """Send a request; the reply's body is read by the caller (before
        the next request on this connection)."""
        for attempt in (1, 2):
            if self._writer is None:
                await self._open()
            assert self._reader is not None and self._writer is not None
            lines = [f"{method} {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
            lines += [f"{k}: {v}" for k, v in headers.items()]
            if body or method == "POST":
                lines.append(f"Content-Length: {len(body)}")
            head = ("\r\n".join(lines) + "\r\n\r\n").encode()
            try:
                self._writer.write(head + body)
                await self._writer.drain()
                status_line = await _read(self._reader.readline())
                if not status_line:
                    raise HTTPFailure("closed before the status line")
            except (OSError, HTTPFailure):
                self.close()
                if attempt == 2:
                    raise
                continue  # a kept-alive connection the server had closed
            return await self._reply(status_line)
        raise AssertionError("unreachable")

    async def _reply(self, status_line: bytes) -> Reply:
        assert self._reader is not None
        try:
            status = int(status_line.split()[1])
        except (IndexError, ValueError) as exc:
            raise HTTPFailure(f"bad status line {status_line!r}") from exc
        headers: dict[str, str] = {}
        while True:
            line = await _read(self._reader.readline())
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length")
        closing = headers.get("connection", "").lower() == "close"
        return Reply(
            status,
            headers,
            self._reader,
            headers.get("transfer-encoding", "").lower() == "chunked",
            int(length) if length is not None else None,
            closing or (length is None and "transfer-encoding" not in headers),
        )

    def finished(self, reply: Reply) -> None:
        """The body was read: keep the connection unless the server closes."""
        if reply.closing:
            self.close()

    async def _open(self) -> None:
        local = (self.source, 0) if self.source else None
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, local_addr=local), 10
        )

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


@dataclass
class Event:
    id: str | None
    retry: int | None
    data: str


async def events(reply: Reply) -> t.AsyncIterator[Event]:
    """The server-sent events of a reply, as they arrive."""
    buffer = b""
    event_id: str | None = None
    retry: int | None = None
    data: list[str] = []
    async for chunk in reply.chunks():
        buffer += chunk
        while b"\n" in buffer:
            raw, buffer = buffer.split(b"\n", 1)
            line = raw.rstrip(b"\r").decode()
            if not line:
                if data or event_id is not None or retry is not None:
                    yield Event(event_id, retry, "\n".join(data))
                event_id, retry, data = None, None, []
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                event_id = value
            elif name == "retry" and value.isdigit():
                retry = int(value)
            elif name == "data":
                data.append(value)


def modern_request(
    method: str,
    params: dict[str, t.Any],
    request_id: t.Any,
    capabilities: dict[str, t.Any] | None = None,
) -> bytes:
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": capabilities or {},
        "io.modelcontextprotocol/clientInfo": {"name": "held-bench", "version": "1"},
    }
    message = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": method,
        "params": {**params, "_meta": meta},
    }
    return json.dumps(message).encode()


def modern_headers(method: str, name: str | None = None) -> dict[str, str]:
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": method,
    }
    if name is not None:
        headers["Mcp-Name"] = name
    return headers


# -- clients -----------------------------------------------------------------


@dataclass
class Stats:
    """What one client saw (times are ``time.monotonic()``)."""

    #: Streams opened (200) and refused (status -> count).
    opened: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    #: Graceful ends seen, and streams that dropped without one.
    graceful: int = 0
    dropped: int = 0
    #: (time, method) of each notification received.
    notifications: list[tuple[float, str]] = field(default_factory=list)
    #: When the first stream was established (its first event read).
    established: float | None = None
    gave_up: bool = False
    errors: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.errors) < 5:
            self.errors.append(text)


class IdleClient:
    """A 2025-11-25 session that only keeps the official client's GET loop."""

    def __init__(self, url: str, source: str | None, headers: dict[str, str]) -> None:
        self.connection = Connection(url, source)
        self.extra = headers
        self.stats = Stats()
        self.session_id: str | None = None

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "MCP-Protocol-Version": LEGACY, **self.extra}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        return headers

    async def _post(self, message: dict[str, t.Any]) -> Reply:
        headers = self._headers("application/json, text/event-stream")
        headers["Content-Type"] = "application/json"
        reply = await self.connection.request(
            "POST", headers, json.dumps(message).encode()
        )
        await reply.body()
        self.connection.finished(reply)
        return reply

    async def initialize(self) -> None:
        reply = await self._post(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": LEGACY,
                    "capabilities": {},
                    "clientInfo": {"name": "held-bench", "version": "1"},
                },
            }
        )
        if reply.status != 200 or "mcp-session-id" not in reply.headers:
            raise HTTPFailure(f"initialize: {reply.status}")
        self.session_id = reply.headers["mcp-session-id"]
        await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def run(self, clock: Clock) -> None:
        try:
            await self.initialize()
        except (OSError, HTTPFailure, asyncio.TimeoutError) as exc:
            self.stats.error(f"initialize: {exc!r}")
            self.stats.gave_up = True
            return
        last_id: str | None = None
        retry_ms: int | None = None
        attempt = 0
        while attempt < MAX_RECONNECTION_ATTEMPTS and not clock.done:
            try:
                headers = self._headers("text/event-stream")
                if last_id:
                    headers["Last-Event-ID"] = last_id
                reply = await self.connection.request("GET", headers)
                if reply.status != 200:
                    self.stats.refused[reply.status] = (
                        self.stats.refused.get(reply.status, 0) + 1
                    )
                    await reply.body()
                    self.connection.finished(reply)
                    raise HTTPFailure(f"GET {reply.status}")
                self.stats.opened += 1
                async for event in _until(events(reply), clock):
                    if self.stats.established is None:
                        self.stats.established = time.monotonic()
                    if event.id:
                        last_id = event.id
                    if event.retry is not None:
                        retry_ms = event.retry
                    if event.data:
                        message = json.loads(event.data)
                        if "method" in message:
                            self.stats.notifications.append(
                                (time.monotonic(), message["method"])
                            )
                self.connection.finished(reply)
                if clock.done:
                    break
                self.stats.graceful += 1
                attempt = 0  # a normal end
            except (OSError, HTTPFailure, asyncio.TimeoutError, ValueError) as exc:
                self.connection.close()
                self.stats.dropped += 1
                self.stats.error(repr(exc))
                attempt += 1
            if attempt >= MAX_RECONNECTION_ATTEMPTS:
                self.stats.gave_up = True
                break
            await clock.sleep((retry_ms or DEFAULT_RECONNECTION_DELAY_MS) / 1000)
        self.connection.close()


class Listener:
    """A 2026-07-28 client that keeps a ``subscriptions/listen`` open."""

    def __init__(
        self,
        url: str,
        source: str | None,
        headers: dict[str, str],
        notifications: dict[str, t.Any] | None = None,
    ) -> None:
        self.connection = Connection(url, source)
        self.extra = headers
        self.filter = notifications or {"toolsListChanged": True}
        self.stats = Stats()

    async def listen_once(self, clock: Clock) -> float:
        """One listen stream; seconds to wait before the next."""
        request_id = f"listen-{next(_ids)}"
        body = modern_request(
            "subscriptions/listen", {"notifications": self.filter}, request_id
        )
        headers = {**modern_headers("subscriptions/listen"), **self.extra}
        reply = await self.connection.request("POST", headers, body)
        if reply.status != 200:
            self.stats.refused[reply.status] = (
                self.stats.refused.get(reply.status, 0) + 1
            )
            await reply.body()
            self.connection.finished(reply)
            return float(reply.headers.get("retry-after") or 1)
        self.stats.opened += 1
        acked = ended = False
        async for event in _until(events(reply), clock):
            if not event.data:
                continue
            message = json.loads(event.data)
            method = message.get("method")
            if method == "notifications/subscriptions/acknowledged":
                acked = True
                if self.stats.established is None:
                    self.stats.established = time.monotonic()
            elif method is not None:
                self.stats.notifications.append((time.monotonic(), method))
            elif message.get("id") == request_id:
                ended = "result" in message
                if not ended:
                    self.stats.error(f"listen error {message.get('error')}")
        self.connection.finished(reply)
        if ended:
            self.stats.graceful += 1
            return 0.0
        if not clock.done:
            self.stats.dropped += 1
            self.stats.error(f"stream dropped (acked={acked})")
        return 1.0

    async def run(self, clock: Clock) -> None:
        while not clock.done:
            try:
                pause = await self.listen_once(clock)
            except (OSError, HTTPFailure, asyncio.TimeoutError, ValueError) as exc:
                self.connection.close()
                self.stats.dropped += 1
                self.stats.error(repr(exc))
                pause = 1.0
            await clock.sleep(pause)
        self.connection.close()


async def _until(
    source: t.AsyncIterator[Event], clock: Clock
) -> t.AsyncIterator[Event]:
    """``source`` until the clock runs out (then the stream is abandoned)."""
    iterator = source.__aiter__()
    while not clock.done:
        step = asyncio.ensure_future(iterator.__anext__())
        stop = asyncio.ensure_future(clock.stopped.wait())
        done, _ = await asyncio.wait(
            {step, stop},
            timeout=max(0.0, clock.deadline - time.monotonic()),
            return_when=asyncio.FIRST_COMPLETED,
        )
        stop.cancel()
        if step not in done:
            step.cancel()
            return
        try:
            yield step.result()
        except StopAsyncIteration:
            return


class Caller:
    """Calls a tool again and again (2026-07-28, no session); latencies."""

    def __init__(
        self,
        url: str,
        source: str | None,
        headers: dict[str, str],
        tool: str = "add",
        arguments: dict[str, t.Any] | None = None,
    ) -> None:
        self.connection = Connection(url, source)
        self.extra = headers
        self.tool = tool
        self.arguments = arguments if arguments is not None else {"a": 1, "b": 2}
        self.latencies: list[float] = []
        self.failures: dict[str, int] = {}

    async def call(self) -> dict[str, t.Any] | None:
        body = modern_request(
            "tools/call", {"name": self.tool, "arguments": self.arguments}, next(_ids)
        )
        headers = {**modern_headers("tools/call", self.tool), **self.extra}
        started = time.monotonic()
        try:
            reply = await self.connection.request("POST", headers, body)
            data = await reply.body()
            self.connection.finished(reply)
        except (OSError, HTTPFailure, asyncio.TimeoutError) as exc:
            self.connection.close()
            key = type(exc).__name__
            self.failures[key] = self.failures.get(key, 0) + 1
            return None
        self.latencies.append(time.monotonic() - started)
        if reply.status != 200:
            key = str(reply.status)
            self.failures[key] = self.failures.get(key, 0) + 1
            return None
        if reply.headers.get("content-type", "").startswith("text/event-stream"):
            for line in data.decode().splitlines():
                if line.startswith("data: {"):
                    message: dict[str, t.Any] = json.loads(line[6:])
                    if "method" not in message:
                        return message
            return None
        return t.cast(dict[str, t.Any], json.loads(data))

    async def run(self, clock: Clock, calls: int, pause: float = 0.0) -> None:
        for _ in range(calls):
            if clock.done:
                break
            await self.call()
            if pause:
                await clock.sleep(pause)
        self.connection.close()


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
