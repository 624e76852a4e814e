"""The examples of the deployment guide: Redis, ProxyFix, a prefix, gunicorn."""

from __future__ import annotations

import importlib.util

from docs_helpers import EXAMPLES
from docs_helpers import post_initialize
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.config import MCP_REQUEST_TIMEOUT

FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "tools.example.com",
    "X-Forwarded-Prefix": "/assistant",
}


def _production(load_example, redis_server):
    return load_example(
        "production",
        env={
            "SECRET_KEY": "not-so-secret",
            "REDIS_URL": redis_server.url,
            "OAUTH_ISSUER": "https://auth.example.com",
        },
    )


def test_advertised_urls_are_served_behind_the_proxy(load_example, redis_server):
    example = _production(load_example, redis_server)
    refused = post_initialize(example.app, FORWARDED)
    assert refused.status_code == 401
    metadata = (
        "https://tools.example.com/assistant/.well-known/oauth-protected-resource/mcp"
    )
    assert refused.headers["WWW-Authenticate"] == (
        f'Bearer resource_metadata="{metadata}"'
    )
    # The proxy strips /assistant: the app sees the path after it.
    document = example.app.test_client().get(
        "/.well-known/oauth-protected-resource/mcp", headers=FORWARDED
    )
    assert document.status_code == 200
    assert document.get_json()["resource"] == "https://tools.example.com/assistant/mcp"


def test_other_host_names_are_refused(load_example, redis_server, caplog):
    example = _production(load_example, redis_server)
    response = post_initialize(
        example.app, {**FORWARDED, "X-Forwarded-Host": "evil-docs.example"}
    )
    assert response.status_code == 403
    assert "MCP_ALLOWED_HOSTS" in caplog.text


def test_the_store_is_redis(load_example, redis_server):
    example = _production(load_example, redis_server)
    store = example.mcp.state(example.app).store
    assert type(store.backend).__name__ == "RedisStoreBackend"


def test_gunicorn_settings():
    spec = importlib.util.spec_from_file_location(
        "gunicorn_conf", EXAMPLES / "gunicorn_conf.py"
    )
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert conf.worker_class == "flask_mcp.gunicorn.ThreadWorker"
    assert conf.workers >= 1
    # Enough threads for many held streams besides the calls.
    assert conf.threads >= 64
    # A stopping worker lets running calls finish, questions included.
    assert conf.graceful_timeout > MCP_REQUEST_TIMEOUT


def test_configuration(load_example):
    example = load_example(
        "config", env={"ALLOWED_HOSTS": "a.example.com, b.example.com"}
    )
    app = example.create_app()
    settings = example.mcp.state(app).settings
    assert settings.allowed_hosts == ("a.example.com", "b.example.com")
    assert settings.page_size == 20
    assert settings.mask_errors is True
    assert post_initialize(app, {"Host": "b.example.com"}).status_code == 200


def test_store_factory(load_example, redis_server, tmp_path):
    factory = load_example("store_factory")
    assert callable(factory.sentinel_backend)
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        REDIS_URL=redis_server.url, MCP_STORE_FACTORY=factory.plain_backend
    )
    mcp = FlaskMCP(app)
    store = mcp.state(app).store
    try:
        store.set("docs-factory", "yes", 10)
        assert store.get("docs-factory") == "yes"
        assert type(store.backend).__name__ == "RedisStoreBackend"
    finally:
        store.backend.client.close()  # this test's own connection
