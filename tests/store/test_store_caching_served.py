"""Flask-Caching under gunicorn with two workers: on a shared backend (Redis,
files) an issuer's metadata and keys are fetched once per TTL for both
workers; SimpleCache keeps one copy per worker and says so once; a cache
that is down is only a cache: every request is still served."""

from __future__ import annotations

import json
import os
import signal
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from support import GunicornServer
from support import RedisServer
from support.counting_issuer import CountingIssuer
from support.mcp_http import modern_call

METADATA = "/.well-known/oauth-authorization-server"
TTL = 3.0


@pytest.fixture(scope="module")
def issuer() -> t.Iterator[CountingIssuer]:
    with CountingIssuer() as issuer:
        yield issuer


@pytest.fixture(scope="module")
def cache_redis() -> t.Iterator[RedisServer]:
    with RedisServer() as server:
        try:
            yield server
        finally:
            if server.pid is not None:
                os.kill(server.pid, signal.SIGCONT)


def cache_config(
    kind: str, tmp_path: Path, redis: RedisServer | None
) -> dict[str, str]:
    if kind == "redis":
        assert redis is not None
        options = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis.url,
            "CACHE_OPTIONS": json.dumps(options),
        }
    if kind == "filesystem":
        return {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(tmp_path / "cache")}
    return {"CACHE_TYPE": "SimpleCache"}


@pytest.fixture
def serve(serve_store_app: t.Any, issuer: CountingIssuer) -> t.Any:
    def make(config: dict[str, str]) -> GunicornServer:
        env = {
            "STORE_APP_JWT_ISSUER": issuer.url,
            "STORE_APP_JWT_TTL": str(TTL),
            "MCP_STORE_URL": None,
            **config,
        }
        return t.cast(GunicornServer, serve_store_app(env))

    return make


def calls(server: GunicornServer, issuer: CountingIssuer, count: int) -> set[str]:
    """``count`` calls with fresh tokens, four at a time; every one served.
    The pids of the workers that served them."""

    def one(n: int) -> str:
        with requests.Session() as http:
            token = issuer.mint(f"user-{n}", "store-app")
            response, message = modern_call(
                http,
                server.url + "/jwt",
                "add",
                {"a": n, "b": 1},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            assert message is not None
            assert message["result"]["content"][0]["text"] == str(n + 1)
            return response.headers["X-Worker-Pid"]

    with ThreadPoolExecutor(4) as pool:
        return set(pool.map(one, range(count)))


def both(server: GunicornServer, issuer: CountingIssuer) -> None:
    """Calls until both workers have served some (on a busy machine the
    second may still be starting when the first answers)."""
    served: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        served |= calls(server, issuer, 8)
        if len(served) == 2:
            return
        time.sleep(0.2)
    raise AssertionError(f"only workers {served} served")


def fetches(issuer: CountingIssuer, before: t.Mapping[str, int]) -> tuple[int, int]:
    return (
        issuer.hits[METADATA] - before.get(METADATA, 0),
        issuer.hits["/jwks"] - before.get("/jwks", 0),
    )


@pytest.mark.parametrize("kind", ["redis", "filesystem"])
def test_a_shared_cache_fetches_once_per_ttl_for_every_worker(
    kind: str,
    tmp_path: Path,
    issuer: CountingIssuer,
    serve: t.Any,
    request: pytest.FixtureRequest,
) -> None:
    redis = request.getfixturevalue("cache_redis") if kind == "redis" else None
    if redis is not None:
        redis.flushall()
    with serve(cache_config(kind, tmp_path, redis)) as server:
        before = issuer.hits.copy()
        calls(server, issuer, 1)  # one worker fetches...
        both(server, issuer)  # ...and both read its copy
        assert fetches(issuer, before) == (1, 1)
        time.sleep(TTL + 0.2)
        calls(server, issuer, 1)
        calls(server, issuer, 40)
        # The key set once more per TTL; the metadata only named its URL,
        # which each verifier keeps.
        assert fetches(issuer, before) == (1, 2)
        assert "SimpleCache" not in server.log()
        if redis is not None:  # the documents are in the cache, not in the store
            import redis as redis_py

            with redis_py.Redis.from_url(redis.url) as client:
                keys = client.keys("*auth:discovery*")
            assert keys  # the key set fetched last, at least
            assert all(b"mcp:jwt:auth:discovery:" in key for key in keys)


def test_simple_cache_is_one_copy_per_worker(
    tmp_path: Path, issuer: CountingIssuer, serve: t.Any
) -> None:
    with serve(cache_config("simple", tmp_path, None)) as server:
        before = issuer.hits.copy()
        calls(server, issuer, 1)
        calls(server, issuer, 40)
        metadata, jwks = fetches(issuer, before)
        assert 1 <= metadata <= 2 and 1 <= jwks <= 2  # once per worker at most
        log = server.log()
    warned = log.count("the Flask-Caching cache is a SimpleCache")
    assert 1 <= warned <= 2  # once per worker process that served


def test_a_cache_that_is_down_is_only_a_cache(
    tmp_path: Path, issuer: CountingIssuer, cache_redis: RedisServer, serve: t.Any
) -> None:
    cache_redis.flushall()
    config = cache_config("redis", tmp_path, cache_redis)
    with serve(config) as server:
        both(server, issuer)  # each worker has its copy
        before = issuer.hits.copy()
        os.kill(t.cast(int, cache_redis.pid), signal.SIGSTOP)
        try:
            started = time.monotonic()
            calls(server, issuer, 40)  # served from each worker's copy
            assert time.monotonic() - started < 10
        finally:
            os.kill(t.cast(int, cache_redis.pid), signal.SIGCONT)
        assert fetches(issuer, before) == (0, 0)
        log = server.log()
    assert 1 <= log.count("Flask-Caching cache RedisCache is unavailable") <= 2
