"""The official clients across a yield: the Python client (``mcp`` 2.3) in
both eras and the TypeScript SDK client (1.x, 2025 only) lose nothing when
the server gives a held stream's thread to a waiting request.

Each test fills the worker's threads (one worker of 6: held streams may take
four), makes three calls wait so that the oldest stream (the client's)
yields, publishes a change while the client is away, and checks that the
client gets it once it is back: by ``Last-Event-ID`` on a 2025 GET, by the
server's cursor on a 2026-07-28 listen.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import time
import typing as t
from pathlib import Path

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ToolsListChanged

from support import GunicornServer
from support import NodeProcess

from .sse import Stream
from .sse import call
from .sse import listen
from .test_holding import held_server

HERE = Path(__file__).parent


@pytest.fixture
def server(tmp_path: Path) -> t.Iterator[GunicornServer]:
    """One per test: which stream yields depends on every thread in use."""
    with held_server(tmp_path, threads=6) as srv:
        yield srv


def crowd_out(port: int, base: int, others: int = 3) -> list[Stream]:
    """Hold ``others`` more streams and make three calls wait: the oldest
    stream yields its thread. The streams are returned (close them)."""
    streams = [
        listen(port, f"x{base}-{n}", f"127.0.17.{base + n}") for n in range(others)
    ]
    for stream in streams:
        stream.wait_for(lambda s: len(s.events) >= 1)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        naps = [pool.submit(call, port, "sleep", {"seconds": 0.4}) for _ in range(3)]
        for nap in naps:
            assert nap.result(timeout=20).status == 200
    return streams


def change_tools(port: int) -> None:
    assert call(port, "change_tools", {}).status == 200


def test_python_client_2025_gets_what_was_published_while_away(
    server: GunicornServer,
) -> None:
    url = server.url + "/mcp"
    seen: list[t.Any] = []
    gets: list[tuple[int, str | None]] = []

    async def on_response(response: httpx2.Response) -> None:
        if response.request.method == "GET":
            gets.append(
                (response.status_code, response.request.headers.get("last-event-id"))
            )

    async def on_message(message: t.Any) -> None:
        seen.append(message)

    async def main() -> None:
        async with contextlib.AsyncExitStack() as stack:
            http = await stack.enter_async_context(
                httpx2.AsyncClient(
                    timeout=httpx2.Timeout(30, read=60),
                    event_hooks={"response": [on_response]},
                )
            )
            await stack.enter_async_context(
                Client(
                    streamable_http_client(url, http_client=http),
                    mode="legacy",
                    message_handler=on_message,
                )
            )
            with anyio.fail_after(10):
                while not gets:
                    await anyio.sleep(0.05)
            streams = await anyio.to_thread.run_sync(crowd_out, server.port, 1)
            await anyio.to_thread.run_sync(change_tools, server.port)
            with anyio.fail_after(15):
                while not any(_is_tools_changed(m) for m in seen):
                    await anyio.sleep(0.05)
            for stream in streams:
                stream.close()

    anyio.run(main)
    # The GET was reopened after the yield, resuming from where it stopped.
    assert len(gets) >= 2 and gets[0] == (200, None), gets
    assert all(status == 200 for status, _ in gets)
    assert gets[1][1] is not None and gets[1][1].startswith("_."), gets


def _is_tools_changed(message: t.Any) -> bool:
    root = getattr(message, "root", message)
    return isinstance(root, types.ToolListChangedNotification) or (
        getattr(root, "method", None) == "notifications/tools/list_changed"
    )


def test_python_client_2026_listens_again_and_misses_nothing(
    server: GunicornServer,
) -> None:
    url = server.url + "/mcp"

    async def main() -> list[t.Any]:
        async with Client(url) as client:
            assert client.protocol_version == "2026-07-28"
            first: list[t.Any] = []
            async with client.listen(tools_list_changed=True) as sub:
                streams = await anyio.to_thread.run_sync(crowd_out, server.port, 11)
                with anyio.fail_after(10):
                    async for event in sub:  # ends with the server's graceful end
                        first.append(event)
            assert first == []
            await anyio.to_thread.run_sync(change_tools, server.port)
            again: list[t.Any] = []
            async with client.listen(tools_list_changed=True) as sub:
                with anyio.fail_after(10):
                    async for event in sub:
                        again.append(event)
                        break
            for stream in streams:
                stream.close()
            return again

    assert anyio.run(main) == [ToolsListChanged()]


def test_typescript_client_reconnects_with_last_event_id(
    server: GunicornServer,
) -> None:
    client = NodeProcess(HERE / "ts_client.mjs", server.url + "/mcp", ready=r"READY ")
    with client:
        deadline = time.monotonic() + 10
        while "HTTP GET 200" not in client.log():
            assert time.monotonic() < deadline, client.log()
            time.sleep(0.05)
        streams = crowd_out(server.port, 21)
        change_tools(server.port)
        deadline = time.monotonic() + 15
        while "NOTIFY notifications/tools/list_changed" not in client.log():
            assert time.monotonic() < deadline, client.log()
            time.sleep(0.05)
        log = client.log()
        for stream in streams:
            stream.close()
    gets = [line for line in log.splitlines() if line.startswith("HTTP GET")]
    assert gets[0] == "HTTP GET 200 last-event-id=-", log
    assert gets[1].startswith("HTTP GET 200 last-event-id=_."), log
    assert "ERROR" not in log, log
