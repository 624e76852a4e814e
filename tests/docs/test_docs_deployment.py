"""The examples of the deployment guide: Redis, ProxyFix, a prefix, gunicorn."""

from __future__ import annotations

import importlib.util

import requests
from docs_helpers import EXAMPLES
from docs_helpers import post_initialize
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_mcp import FlaskMCP
from flask_mcp.config import MCP_REQUEST_TIMEOUT
from support.loopback import LoopbackServer
from support.nginx import NginxServer

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
    assert callable(factory.tls_backend)
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


def test_the_nginx_snippet_keeps_the_port(tmp_path):
    """The guide's nginx ``location``, run by nginx: advertised URLs keep the
    port the client used (``$http_host``; ``$host`` drops it)."""
    page = (EXAMPLES.parent / "deployment.rst").read_text()
    block = page.split(".. code-block:: nginx\n", 1)[1].split("\n\n", 1)[0]
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config["MCP_ALLOWED_HOSTS"] = ["127.0.0.1"]
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    FlaskMCP(
        app,
        authenticate=lambda request: None,
        oauth={
            "enabled": True,
            "protected_resource": {"authorization_servers": ["https://as.example"]},
        },
    )
    with LoopbackServer(app) as upstream:
        location = block.replace("http://127.0.0.1:8000/", upstream.url + "/")
        server = f"server {{ listen 127.0.0.1:{{port}}; {location} }}"
        with NginxServer(server, tmp_path / "nginx") as nginx:
            refused = requests.post(
                nginx.url + "/assistant/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                headers={"Accept": "application/json, text/event-stream"},
                timeout=30,
            )
    assert refused.status_code == 401, refused.text
    metadata = f"{nginx.url}/assistant/.well-known/oauth-protected-resource/mcp"
    assert refused.headers["WWW-Authenticate"] == (
        f'Bearer resource_metadata="{metadata}"'
    )


def test_settings_come_from_the_environment_only_through_the_config(
    load_example, tmp_path
):
    """The config page's recipe: FLASK_MCP_* variables become MCP_* keys; a
    bare MCP_* variable is not read by the library."""
    example = load_example(
        "config_env",
        env={
            "FLASK_MCP_ALLOWED_HOSTS": '["tools.example.com"]',
            "FLASK_MCP_PAGE_SIZE": "7",
            "FLASK_MCP_STORE_URL": f"file://{tmp_path / 'store'}",
            "MCP_PATH": "/not-read",
        },
    )
    settings = example.mcp.state(example.create_app()).settings
    assert settings.allowed_hosts == ("tools.example.com",)
    assert settings.page_size == 7
    assert settings.path == "/mcp"
