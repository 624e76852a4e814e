"""What may be lost goes to the app's Flask-Caching cache (else the store),
through Flask-Caching's public API; the cache failing is only a miss; auth
caches FlaskMCP was not given bind themselves, or warn."""

from __future__ import annotations

import json
import logging
import time
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from flask_caching import Cache

from flask_mcp import FlaskMCP
from flask_mcp.auth import DiscoveryDocumentCache
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import bearer_auth
from flask_mcp.store import SoftCache
from flask_mcp.store import Store
from flask_mcp.store.app_cache import FlaskCachingBackend
from flask_mcp.store.backends import MemoryStoreBackend
from flask_mcp.store.cache import StoreCacheBackend
from support.counting_issuer import CountingIssuer

AUDIENCE = "store-app"
METADATA = "/.well-known/oauth-authorization-server"


@pytest.fixture(scope="module")
def issuer() -> t.Iterator[CountingIssuer]:
    with CountingIssuer() as issuer:
        yield issuer


def make_app(tmp_path: Path, name: str = "caches") -> Flask:
    return Flask(name, instance_path=str(tmp_path / "instance"))


def post(app: Flask, token: str, multiprocess: bool = False) -> t.Any:
    """A 2026-07-28 ``tools/list`` (no session) with ``token``."""
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
    }
    return app.test_client().post(
        "/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/list",
            "params": {"_meta": meta},
        },
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2026-07-28",
            "Mcp-Method": "tools/list",
        },
        environ_overrides={"wsgi.multiprocess": multiprocess},
    )


def cached_keys(cache: Cache, app: Flask) -> list[str]:
    with app.app_context():
        backend = cache.cache
        return sorted(k for k in backend._cache if "discovery" in k)  # SimpleCache


@pytest.mark.parametrize("cache_first", [True, False], ids=["cache-first", "mcp-first"])
def test_documents_go_to_the_apps_flask_caching_cache(
    tmp_path: Path, issuer: CountingIssuer, cache_first: bool
) -> None:
    app = make_app(tmp_path)
    verifier = JWTVerifier(issuer.url, AUDIENCE)
    cache = Cache(config={"CACHE_TYPE": "SimpleCache"})
    if cache_first:
        cache.init_app(app)
    FlaskMCP(app, authenticate=bearer_auth(verifier))
    if not cache_first:
        cache.init_app(app)  # found all the same, at the first request
    before = issuer.hits.copy()
    for n in range(3):
        assert post(app, issuer.mint(f"u{n}", AUDIENCE)).status_code == 200
    assert issuer.hits[METADATA] - before[METADATA] == 1
    assert issuer.hits["/jwks"] - before["/jwks"] == 1
    keys = cached_keys(cache, app)
    assert len(keys) == 2 and all(k.startswith("mcp:mcp:auth:discovery:") for k in keys)
    with app.app_context():
        stored = cache.get(keys[0])
    assert isinstance(stored, str)  # JSON text, whatever the cache's serializer
    assert set(json.loads(stored)) == {"v", "e"}
    # Nothing of it in the store.
    store = app.extensions["mcp"]["mcp"].store
    assert store.get(keys[0].removeprefix("mcp:mcp:")) is None


def test_the_cache_given_wins(tmp_path: Path, issuer: CountingIssuer) -> None:
    app = make_app(tmp_path)
    found = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    given = Cache(config={"CACHE_TYPE": "SimpleCache"})
    given.init_app(app)  # two caches on the app: only an explicit one is used
    FlaskMCP(
        app, cache=given, authenticate=bearer_auth(JWTVerifier(issuer.url, AUDIENCE))
    )
    assert post(app, issuer.mint("u", AUDIENCE)).status_code == 200
    assert cached_keys(given, app) and not cached_keys(found, app)


def test_two_caches_and_none_given_mean_the_store(
    tmp_path: Path, issuer: CountingIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "flask_mcp.store")
    app = make_app(tmp_path)
    first = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    second = Cache(config={"CACHE_TYPE": "SimpleCache"})
    second.init_app(app)
    FlaskMCP(app, authenticate=bearer_auth(JWTVerifier(issuer.url, AUDIENCE)))
    assert post(app, issuer.mint("u", AUDIENCE)).status_code == 200
    assert not cached_keys(first, app) and not cached_keys(second, app)
    assert "pass FlaskMCP(cache=...)" in caplog.text


@pytest.mark.filterwarnings("ignore:Flask-Caching. CACHE_TYPE is set to NullCache")
def test_a_null_cache_means_the_store(tmp_path: Path, issuer: CountingIssuer) -> None:
    app = make_app(tmp_path)
    Cache(app, config={"CACHE_TYPE": "NullCache"})
    FlaskMCP(app, authenticate=bearer_auth(JWTVerifier(issuer.url, AUDIENCE)))
    before = issuer.hits["/jwks"]
    for n in range(3):
        assert post(app, issuer.mint(f"u{n}", AUDIENCE)).status_code == 200
    assert issuer.hits["/jwks"] - before == 1  # kept in the store instead


def test_a_per_process_cache_warns_once_under_several_workers(
    tmp_path: Path, issuer: CountingIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path)
    Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    FlaskMCP(app, authenticate=bearer_auth(JWTVerifier(issuer.url, AUDIENCE)))
    assert post(app, issuer.mint("a", AUDIENCE)).status_code == 200
    assert "SimpleCache" not in caplog.text  # one process: a fine cache
    app = make_app(tmp_path, "several")
    Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    FlaskMCP(app, authenticate=bearer_auth(JWTVerifier(issuer.url, AUDIENCE)))
    for n in range(3):
        assert (
            post(app, issuer.mint(f"b{n}", AUDIENCE), multiprocess=True).status_code
            == 200
        )
    warnings = [r for r in caplog.records if "SimpleCache" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "each of the several worker processes" in warnings[0].getMessage()


class Broken:
    """A Flask-Caching cache whose server is down (its calls raise)."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = True

    def _call(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self.calls += 1
        if self.down:
            raise ConnectionError("the cache server is down")
        return None

    get = set = add = delete = _call


def test_a_cache_that_fails_is_a_miss_and_is_left_alone_a_while(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = Broken()
    backend = FlaskCachingBackend(broken, retry_after=0.3)
    soft = SoftCache(lambda: (backend, "p:"))
    soft.set("doc", {"kept": "here"}, 60)  # fails quietly, kept by this process
    assert soft.get("doc") == {"kept": "here"}
    assert soft.get("missing") is None
    assert broken.calls == 1  # the second and third calls skipped the cache
    assert soft.add("marker", 1, 60) and not soft.add("marker", 1, 60)
    time.sleep(0.35)
    broken.down = False
    assert soft.get("doc") is None  # the cache answers again: it has nothing
    assert broken.calls == 2
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(messages) == 2
    assert "is unavailable" in messages[0] and "available again" in messages[1]


def test_a_local_copy_never_outlives_its_entry() -> None:
    """An introspection answer cached 0.2 s is not trusted longer because
    the cache went down."""
    broken = Broken()
    broken.down = False
    backend = FlaskCachingBackend(broken, retry_after=60)
    soft = SoftCache(lambda: (backend, "p:"))
    soft.set("answer", {"active": True}, 0.2)
    broken.down = True
    assert soft.get("answer") == {"active": True}
    time.sleep(0.25)
    assert soft.get("answer") is None


def test_entries_carry_their_expiry() -> None:
    """Flask-Caching counts whole seconds; the entry's own expiry decides."""
    store = Store(MemoryStoreBackend(), "t:")
    soft = SoftCache(lambda: (StoreCacheBackend(store), "t:"))
    soft.set("short", 1, 0.2)
    store.set("foreign", {"not": "an entry"}, 60)
    assert soft.get("short") == 1 and soft.get("foreign") is None
    time.sleep(0.25)
    assert soft.get("short") is None


def test_a_cache_never_given_to_flask_mcp_binds_itself(
    tmp_path: Path, issuer: CountingIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    """A DiscoveryDocumentCache used inside a plain authenticate function,
    where FlaskMCP cannot reach it (issue 15, item 11)."""
    caplog.set_level(logging.INFO, "flask_mcp.store")
    documents = DiscoveryDocumentCache(ttl=60)

    def authenticate(request: t.Any) -> dict[str, t.Any]:
        metadata = documents.get(issuer.url + METADATA)
        return {"sub": "u", "issuer": metadata["issuer"]}

    app = make_app(tmp_path)
    mcp = FlaskMCP(app, authenticate=authenticate)
    assert post(app, "x").status_code == 200
    assert documents.store is mcp.state(app).store
    assert "now uses the app's store" in caplog.text
    assert documents.size == 1


def test_a_cache_used_outside_any_app_warns_under_several_workers(
    issuer: CountingIssuer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("flask_mcp.store.binding._warned", set())
    plain = Flask("no_mcp_here")
    documents = DiscoveryDocumentCache(ttl=60)
    with plain.test_request_context(environ_overrides={"wsgi.multiprocess": False}):
        documents.get(issuer.url + METADATA)
    assert "without a shared store" not in caplog.text
    for _ in range(3):
        with plain.test_request_context(environ_overrides={"wsgi.multiprocess": True}):
            documents.get(issuer.url + METADATA)
    warnings = [r for r in caplog.records if "without a shared store" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "DiscoveryDocumentCache" in warnings[0].getMessage()
