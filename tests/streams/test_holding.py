"""Held streams on gunicorn with flask_mcp's ThreadWorker: kept while
threads are to spare, yielded when requests need them, never losing a
notification across the graceful end.
"""

from __future__ import annotations

import concurrent.futures
import time
import typing as t
from pathlib import Path

import pytest

from support import GunicornServer

from .sse import Session
from .sse import Stream
from .sse import call
from .sse import listen

APPS = Path(__file__).parent / "apps"
LIST_CHANGED = "notifications/tools/list_changed"


def held_server(
    tmp_path: Path, threads: int = 8, workers: int = 1, **env: str
) -> GunicornServer:
    return GunicornServer(
        app="held_app:create_app()",
        workers=workers,
        threads=threads,
        env={
            "HELD_APP_INSTANCE": str(tmp_path),
            "MCP_LEASE_INTERVAL": "0.2",
            "MCP_KEEPALIVE_INTERVAL": "1",
            **env,
        },
        args=("--chdir", str(APPS), "-c", "python:flask_mcp.gunicorn"),
        clean_log=True,
    )


@pytest.fixture
def server(tmp_path: Path) -> t.Iterator[GunicornServer]:
    """One worker of 8 threads: at most 6 holds (2 threads kept for calls).

    One per test: which stream yields depends on every thread of the worker,
    and the streams of an earlier test may still be ending.
    """
    # MCP_STREAM_HOLD and MCP_LISTEN_HOLD are for workers that cannot
    # yield: short ones here prove that this worker does not use them.
    with held_server(tmp_path, MCP_STREAM_HOLD="0.2", MCP_LISTEN_HOLD="0.2") as srv:
        yield srv


def source(n: int) -> str:
    return f"127.0.9.{n}"


def acked(stream: Stream) -> bool:
    return "notifications/subscriptions/acknowledged" in stream.methods()


def graceful(stream: Stream) -> bool:
    return any("result" in m for m in stream.messages())


def add(port: int) -> float:
    started = time.monotonic()
    answer = call(port, "add", {"a": 2, "b": 3})
    assert answer.status == 200, answer.body
    assert answer.json()["result"]["content"][0]["text"] == "5"
    return time.monotonic() - started


def test_streams_are_held_while_threads_are_to_spare(server: GunicornServer) -> None:
    streams = [listen(server.port, f"l{n}", source(n)) for n in range(6)]
    try:
        for stream in streams:
            assert stream.status == 200
            stream.wait_for(acked)
        time.sleep(0.5)  # longer than MCP_LISTEN_HOLD: still held
        assert not any(stream.ended.is_set() for stream in streams)
        # A seventh stream would take a spare thread: refused, with a delay.
        refused = listen(server.port, "l6", source(6))
        assert refused.status == 503
        assert int(refused.response.getheader("Retry-After")) >= 1
        assert refused.json()["id"] == "l6"
        # Calls are served at once (a stream yields if they need its thread).
        assert max(add(server.port) for _ in range(20)) < 2
    finally:
        for stream in streams:
            stream.close()


def test_the_oldest_stream_yields_to_waiting_requests(server: GunicornServer) -> None:
    streams = []
    for n in range(6):
        streams.append(listen(server.port, f"y{n}", source(20 + n)))
        streams[-1].wait_for(acked)
    try:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            started = time.monotonic()
            sleeps = [
                pool.submit(call, server.port, "sleep", {"seconds": 1.0})
                for _ in range(3)
            ]
            answers = [future.result(timeout=20) for future in sleeps]
            elapsed = time.monotonic() - started
        assert all(answer.status == 200 for answer in answers)
        assert elapsed < 5  # no call waited for a stream to end by itself
        # Two spare threads, three calls: the oldest stream gave its thread.
        streams[0].wait_for(graceful, timeout=5)
        assert streams[0].messages()[-1] == {
            "jsonrpc": "2.0",
            "id": "y0",
            "result": {
                "resultType": "complete",
                "_meta": {"io.modelcontextprotocol/subscriptionId": "y0"},
            },
        }
        assert not graceful(streams[-1])
    finally:
        for stream in streams:
            stream.close()


def test_a_listen_after_a_yield_replays_what_it_missed(server: GunicornServer) -> None:
    """The server ended the listen; a change comes before the client listens
    again; the new listen (same address, same filter) starts with it."""
    streams = [listen(server.port, f"r{n}", source(40 + n)) for n in range(6)]
    for stream in streams:
        stream.wait_for(acked)
    try:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            sleeps = [
                pool.submit(call, server.port, "sleep", {"seconds": 0.5})
                for _ in range(3)
            ]
            streams[0].wait_for(graceful, timeout=5)
            for future in sleeps:
                future.result(timeout=20)
        assert call(server.port, "change_tools", {}).status == 200
        again = listen(server.port, "r0-again", source(40))
        again.wait_for(lambda s: LIST_CHANGED in s.methods())
        assert again.methods()[:2] == [
            "notifications/subscriptions/acknowledged",
            LIST_CHANGED,
        ]
        # A listener from elsewhere gets no replay of what came before it.
        fresh = listen(server.port, "fresh", source(60))
        fresh.wait_for(acked)
        time.sleep(0.3)
        assert fresh.methods() == ["notifications/subscriptions/acknowledged"]
        again.close()
        fresh.close()
    finally:
        for stream in streams:
            stream.close()


def test_a_get_stream_yields_with_a_retry_hint_and_resumes(
    server: GunicornServer,
) -> None:
    session = Session(server.port, source(70))
    get = session.get()
    assert get.status == 200
    get.wait_for(lambda s: len(s.events) >= 1)
    priming = get.events[0]
    assert priming.id and priming.id.startswith("_.") and priming.retry is not None
    time.sleep(0.5)  # beyond MCP_STREAM_HOLD: still held
    assert not get.ended.is_set()
    others = [listen(server.port, f"g{n}", source(71 + n)) for n in range(5)]
    for stream in others:
        stream.wait_for(acked)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        sleeps = [
            pool.submit(call, server.port, "sleep", {"seconds": 0.5}) for _ in range(3)
        ]
        get.wait_end(timeout=5)  # the oldest: yielded
        for future in sleeps:
            future.result(timeout=20)
    end = get.events[-1]
    assert end.data is None and end.id and end.retry is not None
    assert end.retry >= 1000  # spread: come back later than usual
    # A change while the client waits; it resumes where it stopped.
    assert call(server.port, "change_tools", {}).status == 200
    resumed = session.get(last_event_id=end.id)
    resumed.wait_for(lambda s: LIST_CHANGED in s.methods())
    change = next(e for e in resumed.events if e.data and "method" in e.data)
    assert change.id and int(change.id[2:]) > int(end.id[2:])
    resumed.close()
    for stream in others:
        stream.close()


def test_subscribing_reopens_the_get_stream(server: GunicornServer) -> None:
    """A held GET follows the resources its session subscribed to when it
    opened; a new subscription ends it at once (retry 0) and the stream the
    client opens next follows the new resource too."""
    session = Session(server.port, source(90))
    get = session.get()
    get.wait_for(lambda s: len(s.events) >= 1)
    subscribe = {
        "jsonrpc": "2.0",
        "id": 5,
        "method": "resources/subscribe",
        "params": {"uri": "notes://a"},
    }
    assert session.post(subscribe).status == 200
    get.wait_end(timeout=5)
    assert get.events[-1].retry == 0
    again = session.get(last_event_id=get.events[-1].id)
    again.wait_for(lambda s: len(s.events) >= 1)
    assert call(server.port, "touch", {"uri": "notes://a"}).status == 200
    again.wait_for(lambda s: "notifications/resources/updated" in s.methods())
    updated = again.messages()[-1]
    assert updated["params"] == {"uri": "notes://a"}
    again.close()


def test_deleting_the_session_ends_its_get_stream(server: GunicornServer) -> None:
    """A GET held by the worker ends when its session is ``DELETE``d (retry
    0), and thereby frees its thread and slots; the client's next GET finds
    no session (404)."""
    session = Session(server.port, source(95))
    get = session.get()
    get.wait_for(lambda s: len(s.events) >= 1)
    deleted = Stream(server.port, "DELETE", session.headers("application/json"))
    assert deleted.status in (200, 204), deleted.body
    assert get.wait_end(timeout=5) < 5  # not MCP_HOLD_MAX later
    assert get.events[-1].retry == 0
    assert session.get(last_event_id=get.events[-1].id).status == 404
