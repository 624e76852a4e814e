"""Managed keys on real servers: created with the ``flask`` command an
operator runs, used by the official client, revoked, and refused on the next
request by every worker of every host (two gunicorns on one Redis; and the
file store under one gunicorn with three workers)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from support import REPO_ROOT
from support import GunicornServer
from support.mcp_post import ACCEPT
from support.mcp_post import INIT

from . import official
from .official import KEY


def flask_mcp_keys(env: dict[str, str], *args: str) -> str:
    """``flask mcp keys ...`` on the example app, as an operator runs it."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "example_app:create_app()",
            "mcp",
            "keys",
            *args,
        ],
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def post_init(url: str, key: str) -> requests.Response:
    return requests.post(
        url + "/mcp",
        json=INIT,
        headers={"Accept": ACCEPT, "X-API-Key": key},
        timeout=10,
    )


def env_for(instance: Path, store_url: str | None) -> dict[str, str]:
    env = {"EXAMPLE_MANAGED_KEYS": "1", "EXAMPLE_INSTANCE_PATH": str(instance)}
    if store_url:
        env["MCP_STORE_URL"] = store_url
    return env


def check_lifecycle(hosts: list[GunicornServer], env: dict[str, str]) -> None:
    created = flask_mcp_keys(
        env,
        "create",
        "ops-bot",
        "--role",
        "admin",
        "--scope",
        "data:read",
        "--expires",
        "7",
    )
    (key,) = KEY.findall(created)
    listing = flask_mcp_keys(env, "list")
    assert "ops-bot" in listing and key not in listing
    for host in hosts:
        for mode in ("legacy", "auto"):
            seen = official.use(
                host.mcp_url, {"X-API-Key": key}, ["admin_only", "whoami"], mode
            )
            assert {"admin_only", "read_data", "whoami"} <= set(seen.tools)
            assert seen.texts == {
                "admin_only": "Welcome, admin!",
                "whoami": "key:ops-bot",
            }
    used = flask_mcp_keys(env, "list").splitlines()[1]
    assert not used.endswith("never")  # last used is recorded
    assert "revoked" not in flask_mcp_keys(env, "revoke", "ops-bot")
    for host in hosts:
        for _ in range(2 * host.workers):  # every worker answers some of them
            reply = post_init(host.url, key)
            assert reply.status_code == 401
            assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]
            assert "Mcp-Session-Id" not in reply.headers
            assert "result" not in reply.json()
        errors = official.refused(host.mcp_url, {"X-API-Key": key})
        assert errors and all(
            error.error.message.startswith("invalid") for error in errors
        )


@pytest.mark.redis
def test_two_hosts_on_one_redis(redis_server, tmp_path):
    redis_server.flushall()
    env_a = env_for(tmp_path / "a", redis_server.url)
    env_b = env_for(tmp_path / "b", redis_server.url)
    with (
        GunicornServer(env=env_a, workers=2, clean_log=True) as a,
        GunicornServer(env=env_b, workers=2, clean_log=True) as b,
    ):
        check_lifecycle([a, b], env_a)


def test_one_host_with_the_file_store(tmp_path):
    env = env_for(tmp_path / "instance", None)
    with GunicornServer(
        env={**env, "MCP_STORE_URL": None}, workers=3, clean_log=True
    ) as host:
        check_lifecycle([host], {**env})
