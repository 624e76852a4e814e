"""A load run of the example app, scraped by Prometheus, drawn as dashboard
panels: the picture in ``docs/operations.rst``.

``--record`` runs ``gunicorn -w 4`` of the example app with
``EXAMPLE_OPS=1`` on a Redis store, a Prometheus scraping it every second,
and 90 seconds of load in phases (steady calls, then tool errors, held
streams, requests without credentials, and a flood from one caller that the
rate limit turns away); then it asks Prometheus for the panels' series and
writes them to ``docs/_static/ops-dashboard.json``. Without ``--record`` it
only draws that file as ``docs/_static/ops-dashboard.svg`` (no
dependencies), as the docs tests check::

    python -m benchmarks.dashboard --record   # needs redis-server, prometheus
    python -m benchmarks.dashboard            # redraw from the JSON
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
import urllib.parse
import urllib.request
from pathlib import Path
from xml.sax.saxutils import escape

import requests

from benchmarks.bench_tools_call import free_port
from benchmarks.bench_tools_call import redis_command

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "docs" / "_static"
DATA = STATIC / "ops-dashboard.json"
SVG = STATIC / "ops-dashboard.svg"
DURATION = 90
ACCEPT = "application/json, text/event-stream"
KEYS = "k-alice=alice:user,k-carol=carol:user,k-dave=dave:user,k-mal=mallory:user"
RATE_LIMIT = "60/second"

#: (title, unit, {legend: PromQL}) of each panel, in reading order.
PANELS: list[tuple[str, str, dict[str, str]]] = [
    (
        "MCP requests by outcome",
        "req/s",
        {
            outcome: "sum(rate(mcp_server_operation_duration_seconds_count"
            f'{{outcome="{outcome}"}}[5s]))'
            for outcome in ("ok", "tool_error", "error", "limited")
        },
    ),
    (
        "tools/call latency",
        "ms",
        {
            f"p{q}": f"1000 * histogram_quantile(0.{q}, sum by (le) (rate("
            'mcp_server_operation_duration_seconds_bucket{method="tools/call"}[5s])))'
            for q in ("50", "95", "99")
        },
    ),
    (
        "Refused requests",
        "req/s",
        {
            "auth (401)": "sum(rate(mcp_server_auth_refusals_total[5s]))",
            "rate limit (429)": "sum(rate(mcp_server_limit_refusals_total[5s]))",
        },
    ),
    (
        "Held streams",
        "streams",
        {"open": "sum(mcp_server_streams_held)"},
    ),
    (
        "Store latency (p99)",
        "ms",
        {
            kind: "1000 * histogram_quantile(0.99, sum by (le) (rate("
            f'mcp_store_operation_duration_seconds_bucket{{kind="{kind}"}}[5s])))'
            for kind in ("read", "write")
        },
    ),
    (
        "Requests by method",
        "req/s",
        {
            method: "sum(rate(mcp_server_operation_duration_seconds_count"
            f'{{method="{method}"}}[5s]))'
            for method in ("tools/call", "tools/list", "resources/read", "initialize")
        },
    ),
]


# -- recording -----------------------------------------------------------------


def _wait(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


class Client:
    """One MCP client with its own session (so that tools may stream)."""

    def __init__(self, url: str, key: str | None) -> None:
        self.url = url
        self.http = requests.Session()
        self.headers = {"Accept": ACCEPT, "MCP-Protocol-Version": "2025-11-25"}
        if key:
            self.headers["X-API-Key"] = key
        self.next_id = 0

    def open(self) -> None:
        reply = self.post(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "dashboard", "version": "1"},
            },
        )
        if reply.status_code == 200:
            self.headers["Mcp-Session-Id"] = reply.headers["Mcp-Session-Id"]

    def post(self, method: str, params: dict[str, t.Any] | None = None) -> t.Any:
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        return self.http.post(self.url, json=message, headers=self.headers, timeout=30)

    def call(self, name: str, arguments: dict[str, t.Any] | None = None) -> t.Any:
        return self.post("tools/call", {"name": name, "arguments": arguments or {}})


def _load(url: str, started: float) -> None:
    """The phases of the run, each a thread that works while its phase lasts."""

    def during(
        begin: float,
        end: float,
        key: str | None,
        step: t.Callable[[Client], None],
        pause: float = 0.0,
    ) -> t.Callable[[], None]:
        def run() -> None:
            client = Client(url, key)
            while time.monotonic() - started < begin:
                time.sleep(0.1)
            if key:
                client.open()
            while time.monotonic() - started < end:
                step(client)
                time.sleep(pause)

        return run

    def steady(client: Client) -> None:
        client.call("add", {"a": 1, "b": 2})
        client.post("tools/list", {})
        client.post("resources/read", {"uri": "test://static-text"})

    phases = [
        during(0, DURATION, "k-alice", steady, 0.1),
        during(0, DURATION, "k-carol", steady, 0.15),
        during(15, 35, "k-dave", lambda c: c.call("test_error_handling"), 0.05),
        during(20, 35, "k-dave", lambda c: c.call("no_such_tool"), 0.1),
        during(30, 50, "k-carol", lambda c: c.call("test_tool_with_logging")),
        during(30, 50, "k-alice", lambda c: c.call("test_tool_with_logging")),
        during(45, 60, None, lambda c: c.call("add", {"a": 1, "b": 1}), 0.02),
        *[
            during(60, 75, "k-mal", lambda c: c.call("add", {"a": 0, "b": 0}))
            for _ in range(4)
        ],
    ]
    threads = [threading.Thread(target=phase, daemon=True) for phase in phases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DURATION + 30)


def record() -> dict[str, t.Any]:
    tmp = Path(tempfile.mkdtemp(prefix="flask_mcp_dashboard_"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        redis_port, app_port, prom_port = free_port(), free_port(), free_port()
        processes.append(
            subprocess.Popen(
                redis_command(redis_port, tmp),
                stdout=subprocess.DEVNULL,
            )
        )
        env = {
            **os.environ,
            "EXAMPLE_OPS": "1",
            "EXAMPLE_RATE_LIMIT": RATE_LIMIT,
            "EXAMPLE_API_KEYS": KEYS,
            "EXAMPLE_INSTANCE_PATH": str(tmp / "instance"),
            "MCP_STORE_URL": f"redis://127.0.0.1:{redis_port}/0",
            "MCP_METRICS_DIR": str(tmp / "metrics"),
            "PYTHONPATH": str(ROOT),
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - lives with the run
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--no-control-socket",
                    "-w",
                    "4",
                    "-b",
                    f"127.0.0.1:{app_port}",
                    "example_app:create_app()",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        _wait(f"http://127.0.0.1:{app_port}/healthz")
        config = {
            "scrape_configs": [
                {
                    "job_name": "mcp",
                    "scrape_interval": "1s",
                    "scrape_timeout": "1s",
                    "static_configs": [{"targets": [f"127.0.0.1:{app_port}"]}],
                }
            ]
        }
        (tmp / "prometheus.yml").write_text(json.dumps(config))
        processes.append(
            subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={tmp / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp / 'data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--log.level=warn",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        _wait(f"http://127.0.0.1:{prom_port}/-/ready")
        time.sleep(3)
        start = time.time()
        _load(f"http://127.0.0.1:{app_port}/mcp", time.monotonic())
        time.sleep(6)
        end = time.time()
        panels = []
        for title, unit, queries in PANELS:
            series = {}
            for legend, query in queries.items():
                series[legend] = _range(prom_port, query, start, end)
            panels.append({"title": title, "unit": unit, "series": series})
        return {
            "recorded": time.strftime("%Y-%m-%d", time.gmtime()),
            "duration_s": round(end - start),
            "load_average": os.getloadavg(),
            "setup": "example app, EXAMPLE_OPS=1, gunicorn -w 4, Redis store,"
            f" rate limit {RATE_LIMIT} per caller, Prometheus scraping every 1 s",
            "panels": panels,
        }
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def _range(port: int, query: str, start: float, end: float) -> list[list[float]]:
    """``[[seconds since start, value], ...]`` of a range query (one series)."""
    params = urllib.parse.urlencode(
        {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": "1"}
    )
    url = f"http://127.0.0.1:{port}/api/v1/query_range?{params}"
    with urllib.request.urlopen(url, timeout=30) as reply:
        body = json.load(reply)
    result = body["data"]["result"]
    if not result:
        return []
    return [
        [round(float(at) - start, 1), round(float(value), 3)]
        for at, value in result[0]["values"]
        if value not in ("NaN", "+Inf", "-Inf")
    ]


# -- drawing ---------------------------------------------------------------------

PANEL_W, PANEL_H, GAP = 420, 220, 12
COLUMNS = 2
COLORS = ["#73bf69", "#f2cc0c", "#ff7383", "#5794f2", "#b877d9", "#ff9830"]
BACKGROUND, PANEL, GRID, TEXT = "#111217", "#181b1f", "#2c3235", "#ccccdc"


def draw(data: dict[str, t.Any]) -> str:
    """The panels as one SVG, in the look of a Grafana dashboard."""
    panels = data["panels"]
    rows = (len(panels) + COLUMNS - 1) // COLUMNS
    width = COLUMNS * PANEL_W + (COLUMNS + 1) * GAP
    height = 40 + rows * (PANEL_H + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        ' font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="{BACKGROUND}"/>',
        f'<text x="{GAP}" y="26" fill="{TEXT}" font-size="13">'
        f"{escape(data['setup'])}; load average {data['load_average'][0]:.1f}"
        " (a shared 2-core machine)</text>",
    ]
    for index, panel in enumerate(panels):
        x = GAP + (index % COLUMNS) * (PANEL_W + GAP)
        y = 40 + (index // COLUMNS) * (PANEL_H + GAP)
        parts.append(_panel(panel, x, y, data["duration_s"]))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _panel(panel: dict[str, t.Any], x0: float, y0: float, duration: float) -> str:
    left, top, right, bottom = x0 + 44, y0 + 28, x0 + PANEL_W - 10, y0 + PANEL_H - 40
    values = [v for series in panel["series"].values() for _, v in series]
    peak = _nice(max(values, default=1.0))
    parts = [
        f'<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" rx="3"'
        f' fill="{PANEL}"/>',
        f'<text x="{x0 + 10}" y="{y0 + 18}" fill="{TEXT}" font-size="12"'
        f' font-weight="bold">{escape(panel["title"])}'
        f' <tspan font-weight="normal">({escape(panel["unit"])})</tspan></text>',
    ]
    for i in range(5):
        level = peak * i / 4
        y = bottom - (bottom - top) * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"'
            f' stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" fill="{TEXT}" text-anchor="end">'
            f"{level:g}</text>"
        )
    for second in range(0, int(duration) + 1, 15):
        x = left + (right - left) * second / duration
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 13}" fill="{TEXT}" text-anchor="middle">'
            f"{second}s</text>"
        )
    legend_x = left
    for (legend, series), color in zip(panel["series"].items(), COLORS, strict=False):
        if series:
            points = " ".join(
                f"{left + (right - left) * at / duration:.1f},"
                f"{bottom - (bottom - top) * min(value, peak) / peak:.1f}"
                for at, value in series
            )
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{color}"'
                ' stroke-width="1.5"/>'
            )
        parts.append(
            f'<rect x="{legend_x}" y="{bottom + 21}" width="10" height="3"'
            f' fill="{color}"/>'
            f'<text x="{legend_x + 14}" y="{bottom + 26}" fill="{TEXT}">'
            f"{escape(legend)}</text>"
        )
        legend_x += 24 + 6.5 * len(legend)
    return "\n".join(parts)


def _nice(value: float) -> float:
    """A round upper bound for an axis."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 0.1
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="run the load first")
    args = parser.parse_args(argv)
    if args.record:
        DATA.write_text(json.dumps(record(), indent=1) + "\n")
        print(f"written: {DATA}", file=sys.stderr)
    SVG.write_text(draw(json.loads(DATA.read_text())))
    print(f"written: {SVG}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
