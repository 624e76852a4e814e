"""Verifiers and caches made before the app get its store from init_app.

Unbound, each keeps a private in-process store; bound (``FlaskMCP.init_app``
calls :func:`flask_mcp.store.bind_store` on ``authenticate``), they share the
app's store with every worker; a store given to the constructor is kept.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import DiscoveryDocumentCache
from flask_mcp.auth import IntrospectionVerifier
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import bearer_auth
from flask_mcp.store import Store
from flask_mcp.store import StoreBindable
from flask_mcp.store import bind_store
from flask_mcp.store import create_store
from flask_mcp.store.backends import MemoryStoreBackend

DOC = {"issuer": "https://as.example", "jwks_uri": "https://as.example/jwks"}


def test_unbound_caches_keep_private_stores(http_server) -> None:
    url = http_server.json("/doc", DOC)
    one, two = DiscoveryDocumentCache(), DiscoveryDocumentCache()
    assert one.get(url) == DOC
    assert one.has(url) and not two.has(url)
    assert one.store is not two.store


def test_bound_caches_share_the_apps_store(http_server, tmp_path: Path) -> None:
    url = http_server.json("/doc", DOC)
    worker_a = DiscoveryDocumentCache()
    worker_b = DiscoveryDocumentCache()
    for cache in (worker_a, worker_b):  # two workers, one folder
        assert bind_store(cache, create_store(None, str(tmp_path), "t:"))
    assert worker_a.get(url) == DOC
    assert worker_b.has(url)
    assert http_server.hits["/doc"] == 1


def test_a_given_store_is_kept() -> None:
    given = Store(MemoryStoreBackend(), "given:")
    app_store = Store(MemoryStoreBackend(), "app:")
    cache = DiscoveryDocumentCache(store=given)
    verifier = IntrospectionVerifier("https://as/i", "c", "s", store=given)
    jwt = JWTVerifier("https://as", "aud", store=given)
    for target in (cache, verifier, jwt):
        bind_store(target, app_store)
    assert cache.store is given
    assert verifier.store is given
    assert jwt.discovery.store is given


def test_bearer_auth_forwards_to_its_verifier() -> None:
    app_store = Store(MemoryStoreBackend(), "app:")
    jwt = JWTVerifier("https://as", "aud")
    introspection = IntrospectionVerifier("https://as/i", "c", "s")
    for verifier in (jwt, introspection):
        authenticate = bearer_auth(verifier)
        assert isinstance(authenticate, StoreBindable)
        assert bind_store(authenticate, app_store)
    assert jwt.discovery.store is app_store
    assert introspection.store is app_store
    # A plain function is left alone; so is bearer_auth over one.
    assert not bind_store(lambda request: None, app_store)
    assert bind_store(bearer_auth(lambda token: None), app_store)


def test_init_app_binds_the_authenticator(tmp_path: Path) -> None:
    jwt = JWTVerifier("https://as", "aud")
    app = Flask(__name__, instance_path=str(tmp_path))
    mcp = FlaskMCP(app, authenticate=bearer_auth(jwt))
    assert jwt.discovery.store is mcp.state(app).store
