"""A real Prometheus scrapes ``/metrics`` of ``gunicorn -w 4`` during a load
run, and its counts equal the requests sent, per method and outcome."""

from __future__ import annotations

import collections
import concurrent.futures
import time
import typing as t
from pathlib import Path

import requests

from support import GunicornServer
from support.prometheus import PrometheusServer

from .helpers import ACCEPT
from .helpers import call
from .helpers import modern

TOKEN = "scrape-token"
Key = tuple[str, str]


def requests_to_send() -> list[tuple[dict[str, t.Any], dict[str, str], str]]:
    """(message, headers, method) of the load run: both eras, every outcome."""
    ann = {"X-Key": "ann", "MCP-Protocol-Version": "2025-11-25"}
    plan: list[tuple[dict[str, t.Any], dict[str, str], str]] = []
    for i in range(40):
        plan.append((call("echo", {"text": str(i)}, id=i), ann, "tools/call"))
        plan.append((call("fails", id=i), ann, "tools/call"))
        plan.append((call("no-such-tool", id=i), ann, "tools/call"))
        plan.append(
            ({"jsonrpc": "2.0", "id": i, "method": "tools/list"}, ann, "tools/list")
        )
        plan.append(({"jsonrpc": "2.0", "id": i, "method": "ping"}, ann, "ping"))
        message, headers = modern("resources/read", {"uri": f"notes://{i}"}, id=i)
        plan.append((message, {**headers, "X-Key": "bob"}, "resources/read"))
        message, headers = modern(
            "prompts/get", {"name": "greet", "arguments": {"name": "x"}}, id=i
        )
        plan.append((message, {**headers, "X-Key": "bob"}, "prompts/get"))
        message, headers = modern("tools/call", {"name": "echo", "arguments": {}}, id=i)
        plan.append((message, {**headers, "X-Key": "bob"}, "tools/call"))
        plan.append(
            (call("limited", id=i), {**ann, "X-Key": f"c{i % 3}"}, "tools/call")
        )
        plan.append(
            (
                call("echo", {"text": "x"}, id=i),
                {"MCP-Protocol-Version": "2025-11-25"},
                "-",
            )
        )
    return plan


def outcome(response: requests.Response) -> str:
    """The outcome the server must have counted for this answer."""
    if response.status_code == 401:
        return "auth_refused"
    if response.status_code == 429:
        return "limited"
    body = response.json()
    if "error" in body:
        return "error"
    return "tool_error" if body["result"].get("isError") else "ok"


def test_prometheus_counts_equal_the_requests_sent(tmp_path: Path) -> None:
    env = {
        "OPS_TEST_INSTANCE": str(tmp_path / "instance"),
        "MCP_STATELESS": "true",
        "MCP_METRICS": "true",
        "MCP_METRICS_DIR": str(tmp_path / "metrics"),
        "MCP_METRICS_TOKEN": TOKEN,
        "MCP_RATE_LIMIT_STORAGE_URI": "memory://",
        "PROMETHEUS_MULTIPROC_DIR": None,
    }
    with (
        GunicornServer(
            "tests.ops.ops_app:create_app()", env=env, workers=4, clean_log=True
        ) as server,
        PrometheusServer(
            tmp_path / "prometheus", [f"127.0.0.1:{server.port}"], token=TOKEN
        ) as prometheus,
    ):
        prometheus.wait_for_scrape_after(time.time())
        sent: collections.Counter[Key] = collections.Counter()
        workers: set[str] = set()
        plan = requests_to_send()

        def send(
            item: tuple[dict[str, t.Any], dict[str, str], str],
        ) -> tuple[str, str, str]:
            message, headers, method = item
            response = requests.post(
                server.mcp_url,
                json=message,
                headers={"Accept": ACCEPT, **headers},
                timeout=30,
            )
            return method, outcome(response), response.headers["X-Worker-Pid"]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for method, result, pid in pool.map(send, plan):
                sent[(method, result)] += 1
                workers.add(pid)
        finished = time.time()
        prometheus.wait_for_scrape_after(finished)

        rows = prometheus.query(
            "sum by (method, outcome) (mcp_server_operation_duration_seconds_count)"
        )
        counted = {
            (row["metric"]["method"], row["metric"]["outcome"]): int(
                float(row["value"][1])
            )
            for row in rows
        }
        refused = prometheus.query(
            'sum(mcp_server_auth_refusals_total{reason="unauthenticated"})'
        )
        limited = prometheus.query("sum(mcp_server_limit_refusals_total)")
        pids = {str(pid) for pid in server.pids()}

    auth_refused = sent.pop(("-", "auth_refused"))
    assert counted == dict(sent)
    assert int(float(refused[0]["value"][1])) == auth_refused == 40
    assert int(float(limited[0]["value"][1])) == sent[("tools/call", "limited")] > 0
    assert {method for method, _ in counted} == {
        "tools/call",
        "tools/list",
        "ping",
        "resources/read",
        "prompts/get",
    }
    assert {result for _, result in counted} == {"ok", "tool_error", "error", "limited"}
    # The four workers shared the load; any one answered each scrape.
    assert workers == pids and len(pids) == 4
