"""DiscoveryDocumentCache against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug.wrappers import Response

from flask_mcp.auth import DiscoveryDocumentCache
from flask_mcp.auth import DiscoveryError
from flask_mcp.store import create_store

DOC = {"issuer": "https://as.example", "jwks_uri": "https://as.example/jwks"}


@pytest.fixture
def cache(store):
    return DiscoveryDocumentCache(store=store)


def test_get_fetches_once_then_serves_from_store(http_server, cache):
    url = http_server.json("/.well-known/openid-configuration", DOC)
    assert not cache.has(url)
    assert cache.size == 0
    assert cache.get(url) == DOC
    assert cache.get(url) == DOC
    assert http_server.hits["/.well-known/openid-configuration"] == 1
    assert cache.has(url)
    assert cache.size == 1


def test_ttl_expiry(http_server, store, clock):
    cache = DiscoveryDocumentCache(ttl=1, store=store)
    url = http_server.json("/doc", DOC)
    cache.get(url)
    cache.get(url)
    assert http_server.hits["/doc"] == 1
    clock.advance(1.2)
    assert not cache.has(url)
    assert cache.size == 0
    cache.get(url)
    assert http_server.hits["/doc"] == 2


def test_failures_are_not_cached(http_server, cache):
    answers = [Response("boom", 500), Response('{"ok": true}', 200)]
    url = http_server.route("/flaky", lambda request: answers.pop(0))
    with pytest.raises(DiscoveryError) as caught:
        cache.get(url)
    error = caught.value
    assert error.status_code == 500 and error.url == url
    assert url in str(error) and "500" in str(error)
    assert not cache.has(url)
    assert cache.size == 0
    assert cache.get(url) == {"ok": True}
    assert http_server.hits["/flaky"] == 2


def test_concurrent_gets_make_one_request(http_server, cache):
    def slow(request):
        time.sleep(0.3)
        return Response('{"slow": 1}', content_type="application/json")

    url = http_server.route("/slow", slow)
    barrier = threading.Barrier(10)
    results, errors = [], []

    def worker():
        barrier.wait()
        try:
            results.append(cache.get(url))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert results == [{"slow": 1}] * 10
    assert http_server.hits["/slow"] == 1


def test_concurrent_failure_is_shared_and_not_cached(http_server, cache):
    def slow_failure(request):
        time.sleep(0.3)
        return Response("down", 503)

    url = http_server.route("/down", slow_failure)
    barrier = threading.Barrier(5)
    errors = []

    def worker():
        barrier.wait()
        try:
            cache.get(url)
        except DiscoveryError as error:
            errors.append(error.status_code)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == [503] * 5
    assert http_server.hits["/down"] == 1
    with pytest.raises(DiscoveryError):
        cache.get(url)
    assert http_server.hits["/down"] == 2


def test_timeout(http_server, store):
    def stall(request):
        time.sleep(1.0)
        return Response("{}", content_type="application/json")

    url = http_server.route("/stall", stall)
    cache = DiscoveryDocumentCache(timeout=0.2, store=store)
    started = time.monotonic()
    with pytest.raises(DiscoveryError, match="timed out"):
        cache.get(url)
    assert time.monotonic() - started < 0.9
    assert not cache.has(url)


@pytest.mark.parametrize(
    ("body", "reason"),
    [("not json", "not valid JSON"), ("[1, 2]", "not a JSON object"), ("", "JSON")],
)
def test_invalid_bodies(http_server, cache, body, reason):
    url = http_server.route(
        "/bad", lambda request: Response(body, content_type="application/json")
    )
    with pytest.raises(DiscoveryError, match=reason):
        cache.get(url)
    assert not cache.has(url)


def test_oversized_document(http_server, cache):
    body = '{"x": "' + "a" * (1 << 20) + '"}'
    url = http_server.route("/huge", lambda request: Response(body))
    with pytest.raises(DiscoveryError, match="larger"):
        cache.get(url)


def test_connection_refused(http_server, cache):
    url = http_server.url + "/x"
    http_server.close()
    with pytest.raises(DiscoveryError, match="request failed"):
        cache.get(url)


def test_has_clear_size(http_server, cache):
    one = http_server.json("/one", {"n": 1})
    two = http_server.json("/two", {"n": 2})
    cache.get(one)
    cache.get(two)
    assert cache.size == 2
    cache.clear(one)
    assert not cache.has(one) and cache.has(two)
    assert cache.size == 1
    cache.clear(one)  # clearing an absent URL is fine
    cache.clear()
    assert cache.size == 0 and not cache.has(two)
    cache.get(one)
    assert http_server.hits["/one"] == 2


def test_refresh_refetches(http_server, cache):
    documents = iter([{"v": 1}, {"v": 2}])
    url = http_server.route(
        "/rotating", lambda request: Response(json.dumps(next(documents)))
    )
    assert cache.get(url) == {"v": 1}
    assert cache.refresh(url) == {"v": 2}
    assert cache.get(url) == {"v": 2}
    assert http_server.hits["/rotating"] == 2


def test_shared_between_caches_through_a_file_store(http_server, tmp_path):
    # Two cache objects over one folder: two gunicorn workers of one host.
    worker_a = DiscoveryDocumentCache(store=create_store(None, str(tmp_path), "t:"))
    worker_b = DiscoveryDocumentCache(store=create_store(None, str(tmp_path), "t:"))
    url = http_server.json("/shared", DOC)
    assert worker_a.get(url) == DOC
    assert worker_b.has(url)
    assert worker_b.get(url) == DOC
    assert http_server.hits["/shared"] == 1
    assert worker_b.size == 1
    worker_b.clear()
    assert not worker_a.has(url)
    assert worker_a.size == 0


def test_ttl_must_be_positive():
    with pytest.raises(ValueError):
        DiscoveryDocumentCache(ttl=0)
