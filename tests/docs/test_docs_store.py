"""The examples of the store page: Flask-Caching beside the store, and the
store's signals for metrics."""

from __future__ import annotations

import logging
import typing as t

import pytest
import redis

from flask_mcp.signals import store_called
from flask_mcp.signals import store_recovered
from flask_mcp.signals import store_unavailable
from flask_mcp.store import Store
from flask_mcp.store import StoreUnavailable
from flask_mcp.store.backends import MemoryStoreBackend
from support.counting_issuer import CountingIssuer


def test_caching_keeps_the_keys_in_the_cache_and_the_rest_in_the_store(
    load_example: t.Any, redis_server: t.Any
) -> None:
    redis_server.flushall()
    store_url, cache_url = redis_server.url, redis_server.url[:-1] + "1"
    with CountingIssuer() as issuer:
        example = load_example(
            "caching",
            env={
                "REDIS_URL": store_url,
                "CACHE_REDIS_URL": cache_url,
                "OAUTH_ISSUER": issuer.url,
            },
        )
        meta = {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
        }
        for user in ("ann", "bob"):
            token = issuer.mint(user, "https://tools.example.com/mcp")
            response = example.app.test_client().post(
                "/mcp",
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {"_meta": meta, "name": "ping", "arguments": {}},
                },
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/json, text/event-stream",
                    "MCP-Protocol-Version": "2026-07-28",
                    "Mcp-Method": "tools/call",
                    "Mcp-Name": "ping",
                },
            )
            assert response.status_code == 200, response.text
        assert issuer.hits["/jwks"] == 1
    with (
        redis.Redis.from_url(cache_url) as cache,
        redis.Redis.from_url(store_url) as store,
    ):
        assert len(cache.keys("*auth:discovery*")) == 2
        # The store holds only the index behind DiscoveryDocumentCache.size.
        assert store.keys("*auth:discovery*") == [b"mcp:mcp:auth:discovery:index"]


class Down(MemoryStoreBackend):
    def get(self, key: str) -> t.Any:
        raise StoreUnavailable("down for the docs", unreachable=True)

    def ping(self) -> None:
        raise StoreUnavailable("still down")


def test_signals_example(load_example: t.Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "myapp.store")
    example = load_example("store_signals")
    try:
        example.SLOW = 0.0  # every operation counts as slow here
        store = Store(MemoryStoreBackend(), "t:")
        store.set("k", 1, 60)
        down = Store(Down(), "t:", probe_interval=60)
        with pytest.raises(StoreUnavailable):
            down.get("k")
        with pytest.raises(StoreUnavailable):
            down.get("k")  # refused at once: the circuit is open
        messages = [r.getMessage() for r in caplog.records if r.name == "myapp.store"]
        assert messages[0].startswith("store write: ok in ")
        assert [m for m in messages if m.startswith("store read: failed in ")]
        assert [m for m in messages if m.endswith("down: down for the docs")]
        down.health._recovered()  # what the probe does once it gets an answer
        assert "back after" in caplog.records[-1].getMessage()
    finally:
        store_called.disconnect(example.report_slow)
        store_unavailable.disconnect(example.page_someone)
        store_recovered.disconnect(example.all_clear)
