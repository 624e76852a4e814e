"""The store fails under held streams and streamed calls: listen and GET
streams end with an error event (not silently), a streamed 2025 call whose
first event cannot be logged answers 503 with ``Retry-After``."""

from __future__ import annotations

import os
import signal
import time
import typing as t
from pathlib import Path

import pytest
from store.conftest import Remountable
from store.conftest import remountable  # noqa: F401 - a fixture

from support import GunicornServer
from support import RedisServer

from .sse import Session
from .sse import Stream
from .sse import listen
from .test_holding import held_server

STORE_FAILED = "Service unavailable: the server's store failed"


@pytest.fixture
def redis_backed(tmp_path: Path) -> t.Iterator[tuple[GunicornServer, RedisServer]]:
    with RedisServer() as redis:
        with held_server(
            tmp_path, MCP_STORE_URL=redis.url, MCP_STORE_TIMEOUT="1"
        ) as server:
            yield server, redis
            if redis.pid is not None:
                os.kill(redis.pid, signal.SIGCONT)


def open_streams(server: GunicornServer) -> tuple[Stream, Stream]:
    stream = listen(server.port, "f1")
    session = Session(server.port)
    get = session.get()
    stream.wait_for(lambda s: len(s.events) >= 1)
    get.wait_for(lambda s: len(s.events) >= 1)
    return stream, get


def assert_error_ends(stream: Stream, get: Stream) -> None:
    stream.wait_end(timeout=10)
    get.wait_end(timeout=10)
    error = stream.messages()[-1]
    assert error["id"] == "f1"
    assert error["error"]["code"] == -32603
    assert error["error"]["message"].startswith(STORE_FAILED)
    last = get.events[-1]
    assert last.data == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32603, "message": last.data["error"]["message"]},
    }
    assert last.data["error"]["message"].startswith(STORE_FAILED)
    assert last.retry is not None and last.retry >= 1000


def test_a_stopped_redis_ends_held_streams_with_an_error(
    redis_backed: tuple[GunicornServer, RedisServer],
) -> None:
    server, redis = redis_backed
    stream, get = open_streams(server)
    redis.stop()
    started = time.monotonic()
    assert_error_ends(stream, get)
    assert time.monotonic() - started < 3
    redis.start()
    deadline = time.monotonic() + 10
    while (again := listen(server.port, "f2")).status != 200:
        assert time.monotonic() < deadline, again.body
        time.sleep(0.2)
    again.wait_for(lambda s: len(s.events) >= 1)
    again.close()
    assert "Traceback" not in server.log()


def test_a_frozen_redis_ends_held_streams_within_its_timeout(
    redis_backed: tuple[GunicornServer, RedisServer],
) -> None:
    server, redis = redis_backed
    stream, get = open_streams(server)
    assert redis.pid is not None
    os.kill(redis.pid, signal.SIGSTOP)
    started = time.monotonic()
    try:
        assert_error_ends(stream, get)
        assert time.monotonic() - started < 5  # MCP_STORE_TIMEOUT is 1 s
    finally:
        os.kill(redis.pid, signal.SIGCONT)


def test_a_streamed_call_whose_first_event_fails_answers_503(
    tmp_path: Path,
    remountable: Remountable,  # noqa: F811
) -> None:
    with held_server(tmp_path, MCP_STORE_URL=f"file://{remountable.path}") as server:
        session = Session(server.port)
        remountable.read_only()  # sessions can be read, no event written
        try:
            call = session.post(
                {
                    "jsonrpc": "2.0",
                    "id": 9,
                    "method": "tools/call",
                    "params": {
                        "name": "steps",
                        "arguments": {"count": 2},
                        "_meta": {"progressToken": "p"},
                    },
                }
            )
        finally:
            remountable.writable()
        assert call.status == 503, call.body
        assert int(call.response.getheader("Retry-After")) >= 1
        body = call.json()
        assert body["id"] == 9 and body["error"]["code"] == -32603
