"""``EXAMPLE_OPS=1``: the example app under gunicorn with metrics at
``/metrics``, audit lines on stderr and a rate limit of
``EXAMPLE_RATE_LIMIT``, shared by its workers through the Redis store."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from support import GunicornServer
from support import RedisServer

from .helpers import ACCEPT
from .helpers import call
from .helpers import samples
from .helpers import value


def test_example_ops_turns_it_all_on(tmp_path: Path, redis_server: RedisServer) -> None:
    redis_server.flushall()
    env = {
        "EXAMPLE_OPS": "1",
        "EXAMPLE_RATE_LIMIT": "5/minute",
        "EXAMPLE_INSTANCE_PATH": str(tmp_path),
        "MCP_STORE_URL": redis_server.url,
        "MCP_STATELESS": "true",
        "PROMETHEUS_MULTIPROC_DIR": None,
    }
    with GunicornServer("example_app:create_app()", env=env, workers=2) as server:
        codes = [
            requests.post(
                server.mcp_url,
                json=call("add", {"a": i, "b": 1}, id=i),
                headers={"Accept": ACCEPT, "MCP-Protocol-Version": "2025-11-25"},
                timeout=30,
            ).status_code
            for i in range(8)
        ]
        metrics = requests.get(server.url + "/metrics", timeout=30)
        assert requests.get(server.url + "/readyz", timeout=30).status_code == 200
        log = server.log()
    assert codes == [200] * 5 + [429] * 3  # one limit for both workers
    assert metrics.status_code == 200
    found = samples(metrics.text)
    count = "mcp_server_operation_duration_seconds_count"
    assert value(found, count, method="tools/call", name="add", outcome="ok") == 5
    assert value(found, count, method="tools/call", outcome="limited") == 3
    lines = [json.loads(x) for x in log.splitlines() if x.startswith('{"time"')]
    assert [(x["event"], x["outcome"]) for x in lines] == [("tools/call", "ok")] * 5 + [
        ("limit_refused", "limited")
    ] * 3
