"""Where the rate-limit counters live when the store's URL says so, and how
often a failed counter storage is tried again by concurrent requests.
(The limits themselves: test_ops_rate_limits.py.)"""

from __future__ import annotations

import os
import signal
import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask

from flask_mcp.ops import rate_limits
from flask_mcp.ops.rate_limits import storage_uri
from support import RedisServer
from support.clock import Clock

from .helpers import call
from .helpers import post
from .test_ops_rate_limits import make_app as limits_app

TIMEOUT = 1.0


def make_app(tmp_path: Path, **config: t.Any) -> Flask:
    """The rate limits' test app, every caller signed in as ann."""
    return limits_app(tmp_path, auth=lambda request: {"sub": "ann"}, **config)[0]


@pytest.mark.parametrize(
    ("store_url", "expected"),
    [
        (
            "redis://:pw@db:6380/2?replicas=1&replica_timeout=0.5&health_check_interval=9",
            "redis://:pw@db:6380/2?health_check_interval=9",
        ),
        ("rediss://db/0?replicas=2", "rediss://db/0"),
        (
            "unix:///run/redis.sock?db=3&replica_timeout=1",
            "redis+unix:///run/redis.sock?db=3",
        ),
        ("redis://db:6379/0", "redis://db:6379/0"),
        (None, "memory://"),
        ("file:///srv/mcp", "memory://"),
        ("memory://", "memory://"),
    ],
)
def test_a_one_server_store_url_is_given_without_flask_mcps_options(
    store_url: str | None, expected: str
) -> None:
    assert storage_uri(None, store_url) == expected


@pytest.mark.parametrize(
    "store_url",
    [
        "redis+sentinel://:secret@s1,s2/mymaster/2",
        "rediss+sentinel://:secret@s1/mymaster",
        "redis+cluster://:secret@n1:7000,n2:7000",
        "rediss+cluster://:secret@n1:7000",
    ],
)
def test_a_sentinel_or_cluster_store_needs_a_storage_of_its_own(
    store_url: str,
) -> None:
    """Flask-Limiter reads these URLs otherwise (the database joins the
    service name) or not at all: refused, naming the setting that helps,
    never the password."""
    with pytest.raises(ValueError, match="MCP_RATE_LIMIT_STORAGE_URI") as refused:
        storage_uri(None, store_url)
    assert "secret" not in str(refused.value)
    assert storage_uri("memory://", store_url) == "memory://"


def test_the_app_refuses_to_start_on_a_sentinel_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="MCP_RATE_LIMIT_STORAGE_URI"):
        make_app(tmp_path, MCP_STORE_URL="redis+sentinel://127.0.0.1:1/mymaster/2")


def test_a_store_url_with_replicas_still_limits(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """``replicas=`` is the store's option: passed on, every hit failed in
    redis-py and the limits were never enforced (failing open)."""
    redis_server.flushall()
    app = make_app(
        tmp_path, MCP_STORE_URL=f"{redis_server.url}?replicas=0&replica_timeout=0.5"
    )
    client = app.test_client()
    codes = [post(client, call("expensive", id=i)).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    assert any(key.startswith(b"LIMITS") for key in _keys(redis_server))


def _keys(server: RedisServer) -> list[bytes]:
    import redis

    return t.cast(list[bytes], redis.Redis.from_url(server.url).keys("*"))


def test_one_request_per_interval_tries_a_frozen_storage(
    tmp_path: Path,
    own_redis: RedisServer,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once the retry interval has passed, concurrent requests do not all
    wait on the frozen Redis: one tries it, the others go through at once."""
    monkeypatch.setattr(rate_limits, "RETRY_INTERVAL", 5.0)
    app = make_app(
        tmp_path,
        MCP_RATE_LIMIT="1000/minute",
        MCP_RATE_LIMIT_STORAGE_URI=own_redis.url,
        MCP_STORE_TIMEOUT=TIMEOUT,
    )
    assert post(app.test_client(), call("cheap")).status_code == 200
    assert own_redis.pid is not None
    os.kill(own_redis.pid, signal.SIGSTOP)
    try:
        assert _timed(app, None)[1] >= TIMEOUT * 0.8  # failed: open from now on
        clock.advance(5.0)
        together = threading.Barrier(8)
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: _timed(app, together), range(8)))
    finally:
        os.kill(own_redis.pid, signal.SIGCONT)
    assert [status for status, _ in answers] == [200] * 8
    waited = [seconds for _, seconds in answers if seconds >= TIMEOUT * 0.8]
    assert len(waited) == 1, sorted(seconds for _, seconds in answers)


def _timed(app: Flask, start: threading.Barrier | None) -> tuple[int, float]:
    """Status and seconds (real ones: the clock fixture stops the others)."""
    client = app.test_client()
    if start is not None:
        start.wait(timeout=10)
    began = time.perf_counter()
    status = post(client, call("cheap")).status_code
    return status, time.perf_counter() - began
