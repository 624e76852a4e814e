"""Choosing a store: MCP_STORE_URL, MCP_STORE_FACTORY, and the app wiring."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.store import StoreBackend
from flask_mcp.store import store_from_config
from flask_mcp.store.backends import FileStoreBackend
from flask_mcp.store.backends import MemoryStoreBackend
from flask_mcp.store.backends import RedisStoreBackend


class CustomBackend(FileStoreBackend):
    """A plugged-in backend; remembers what its factory was given."""

    def __init__(self, config: t.Mapping[str, t.Any], instance_path: str) -> None:
        super().__init__(f"{instance_path}/custom")
        self.option = config.get("MYSTORE_OPTION")
        self.instance_path = instance_path


def make_backend(config: t.Mapping[str, t.Any], instance_path: str) -> StoreBackend:
    return CustomBackend(config, instance_path)


def not_a_backend(config: t.Mapping[str, t.Any], instance_path: str) -> object:
    return object()


def test_urls(tmp_path: Path, redis_server) -> None:
    def backend(url: str | None) -> StoreBackend:
        return store_from_config({"MCP_STORE_URL": url}, str(tmp_path), "t:").backend

    default = backend(None)
    assert isinstance(default, FileStoreBackend)
    assert default.path == str(tmp_path / "flask_mcp")
    folder = backend(f"file://{tmp_path}/my%20store")
    assert isinstance(folder, FileStoreBackend)
    assert folder.path == f"{tmp_path}/my store"
    assert isinstance(backend("memory://"), MemoryStoreBackend)
    redis = backend(redis_server.url)
    assert isinstance(redis, RedisStoreBackend)
    assert "127.0.0.1" in repr(redis)
    with pytest.raises(ValueError, match="'ftp' is not supported"):
        backend("ftp://example.com/")


def test_redis_passwords_stay_out_of_the_log_name(redis_server) -> None:
    url = redis_server.url.replace("redis://", "redis://user:s3cret@")
    store = store_from_config({"MCP_STORE_URL": url}, "/x", "t:")
    assert "s3cret" not in store.health.name


def test_redis_timeout_comes_from_the_config() -> None:
    store = store_from_config(
        {"MCP_STORE_URL": "redis://127.0.0.1:1/0", "MCP_STORE_TIMEOUT": 0.25},
        "/x",
        "t:",
    )
    options = store.backend.client.connection_pool.connection_kwargs  # type: ignore[attr-defined]
    assert options["socket_timeout"] == 0.25
    assert options["socket_connect_timeout"] == 0.25
    in_url = store_from_config(
        {"MCP_STORE_URL": "redis://127.0.0.1:1/0?socket_timeout=7"}, "/x", "t:"
    )
    options = in_url.backend.client.connection_pool.connection_kwargs  # type: ignore[attr-defined]
    assert options["socket_timeout"] == 7


@pytest.mark.parametrize(
    "factory",
    [f"{__name__}:make_backend", f"{__name__}.make_backend", make_backend],
    ids=["colon", "dots", "callable"],
)
def test_factory(factory: t.Any, tmp_path: Path) -> None:
    config = {
        "MCP_STORE_FACTORY": factory,
        "MCP_STORE_URL": "redis://ignored",
        "MYSTORE_OPTION": 42,
    }
    store = store_from_config(config, str(tmp_path), "t:")
    assert isinstance(store.backend, CustomBackend)
    assert store.backend.option == 42
    assert store.backend.instance_path == str(tmp_path)
    assert store.namespace == "t:"
    store.set("k", 1, 60)
    assert store.get("k") == 1


def test_a_factory_must_make_a_backend() -> None:
    with pytest.raises(TypeError, match="lacks the methods"):
        store_from_config({"MCP_STORE_FACTORY": not_a_backend}, "/x", "t:")
    with pytest.raises(ValueError, match="not a dotted path"):
        store_from_config({"MCP_STORE_FACTORY": "nodots"}, "/x", "t:")
    with pytest.raises(ModuleNotFoundError):
        store_from_config({"MCP_STORE_FACTORY": "no.such.module:f"}, "/x", "t:")


def test_the_app_uses_the_factory(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config["MCP_STORE_FACTORY"] = f"{__name__}:make_backend"
    mcp = FlaskMCP(app)
    store = mcp.state(app).store
    assert isinstance(store.backend, CustomBackend)
    assert store.namespace == "mcp:mcp:"


def test_sentinel_urls() -> None:
    url = (
        "redis+sentinel://app:s3cret@10.0.0.1:26379,[::1]:26380,sentinel-c"
        "/my%20primary/3?sentinel_password=other&replica_timeout=0.3"
    )
    store = store_from_config(
        {"MCP_STORE_URL": url, "MCP_STORE_TIMEOUT": 0.5}, "/x", "t:"
    )
    backend = store.backend
    assert isinstance(backend, RedisStoreBackend)
    assert backend.options.replicas == 1  # Sentinel's default: WAIT for one
    assert backend.options.replica_timeout == 0.3
    name = repr(backend)
    assert "s3cret" not in name and "other" not in name
    assert "my primary@10.0.0.1:26379,::1:26380,sentinel-c:26379/3" in name
    pool = backend.client.connection_pool
    assert pool.service_name == "my primary"
    assert pool.connection_kwargs["password"] == "s3cret"
    assert pool.connection_kwargs["db"] == 3
    sentinels = [
        c.connection_pool.connection_kwargs for c in pool.sentinel_manager.sentinels
    ]
    assert [(s["host"], s["port"]) for s in sentinels] == [
        ("10.0.0.1", 26379),
        ("::1", 26380),
        ("sentinel-c", 26379),
    ]
    assert all(
        s["password"] == "other" and s["socket_timeout"] == 0.5 for s in sentinels
    )
    relaxed = store_from_config(
        {"MCP_STORE_URL": "redis+sentinel://h/m?replicas=0"}, "/x", "t:"
    )
    assert relaxed.backend.options.replicas == 0  # type: ignore[attr-defined]


def test_replicas_on_a_single_server_url() -> None:
    store = store_from_config(
        {"MCP_STORE_URL": "redis://127.0.0.1:1/2?replicas=2&socket_timeout=4"},
        "/x",
        "t:",
    )
    backend = store.backend
    assert isinstance(backend, RedisStoreBackend)
    assert backend.options.replicas == 2
    assert backend.client.connection_pool.connection_kwargs["socket_timeout"] == 4
    assert backend.client.connection_pool.connection_kwargs["db"] == 2


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+sentinel://h:26379", "needs the service name"),
        ("redis+sentinel://h:26379/m/x", "database 'x' is not a number"),
        ("redis+sentinel:///m", "at least one host"),
        ("redis+cluster://h:1,h:port", "node 'h:port' is not host:port"),
        ("redis+cluster://h:1?replicas=1", "does not take replicas"),
        ("redis+memcached://h", "'redis.memcached' is not supported"),
        ("valkey://h", "'valkey' is not supported"),
    ],
)
def test_bad_redis_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        store_from_config({"MCP_STORE_URL": url}, "/x", "t:")


def test_housekeeping_comes_from_the_config(tmp_path: Path) -> None:
    store = store_from_config(
        {"MCP_STORE_SWEEP_INTERVAL": 5, "MCP_STORE_PROBE_INTERVAL": 0.1},
        str(tmp_path),
        "t:",
    )
    assert store.backend.sweep_interval == 5  # type: ignore[attr-defined]
    assert store.health.probe_interval == 0.1
