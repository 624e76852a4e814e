"""Metrics in one process: what is counted, under which labels, who may
read them, and what a bad metrics folder does. (Across gunicorn workers,
scraped by a real Prometheus: test_ops_prometheus.py.)"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from support.mounts import tiny_tmpfs

from .helpers import call
from .helpers import modern
from .helpers import post
from .helpers import register
from .helpers import run_python
from .helpers import scrape
from .helpers import value

DURATION = "mcp_server_operation_duration_seconds_count"


def make_app(
    tmp_path: Path, metrics_dir: Path, authenticate: t.Any = None, **config: t.Any
) -> tuple[Flask, FlaskMCP]:
    app = Flask("metrics", instance_path=str(tmp_path / "instance"))
    app.config.update(
        {
            "MCP_METRICS": True,
            "MCP_METRICS_DIR": str(metrics_dir),
            "MCP_METRICS_PUBLIC": authenticate is None,
            "MCP_STATELESS": True,
            **config,
        }
    )
    mcp = FlaskMCP(authenticate=authenticate)
    register(mcp)
    mcp.init_app(app)
    return app, mcp


def test_operations_are_counted_by_method_name_and_outcome(
    tmp_path: Path, metrics_dir: Path
) -> None:
    app, _ = make_app(tmp_path, metrics_dir)
    client = app.test_client()
    before = scrape(client)
    for i in range(3):
        assert post(client, call("add", {"a": i, "b": 1})).status_code == 200
    post(client, call("fails"))
    post(client, call("nope"))
    post(client, call("x" * 300))
    post(client, {"jsonrpc": "2.0", "id": 9, "method": "tools/list"})
    message, headers = modern("resources/read", {"uri": "notes://12"})
    assert post(client, message, **headers).status_code == 200
    after = scrape(client)

    def delta(**labels: str) -> float:
        return value(after, DURATION, **labels) - value(before, DURATION, **labels)

    assert delta(method="tools/call", name="add", outcome="ok", error_type="") == 3
    assert delta(method="tools/call", name="fails", outcome="tool_error") == 1
    # Names the server does not have are counted, but never as a label.
    assert (
        delta(method="tools/call", name="", outcome="error", error_type="-32602") == 2
    )
    assert delta(method="tools/list", outcome="ok") == 1
    assert delta(method="resources/read", name="notes://{id}", outcome="ok") == 1
    names = {dict(labels).get("name") for (n, labels) in after if n == DURATION}
    assert "nope" not in names and not any("xxx" in (n or "") for n in names)
    # The histogram's buckets are cumulative and end at the count.
    inf = value(
        after, "mcp_server_operation_duration_seconds_bucket", name="add", le="+Inf"
    )
    assert inf == value(after, DURATION, name="add")


def test_unknown_methods_share_one_label(tmp_path: Path, metrics_dir: Path) -> None:
    """A batch (2025-03-26) may name any method: each is a new string."""
    app, _ = make_app(tmp_path, metrics_dir)
    client = app.test_client()
    before = scrape(client)
    batch = [{"jsonrpc": "2.0", "id": i, "method": f"made/up/{i}"} for i in range(5)]
    response = post(client, batch, **{"MCP-Protocol-Version": "2025-03-26"})
    assert response.status_code == 200
    after = scrape(client)
    assert (
        value(after, DURATION, method="_OTHER")
        - value(before, DURATION, method="_OTHER")
        == 5
    )
    assert not any("made/up" in str(labels) for (_, labels) in after)


def test_auth_refusals_are_counted_by_reason(tmp_path: Path, metrics_dir: Path) -> None:
    def authenticate(request: t.Any) -> t.Any:
        return {"sub": "ann"} if request.headers.get("X-Key") == "k" else None

    app, _ = make_app(tmp_path, metrics_dir, authenticate, MCP_METRICS_TOKEN="s3")
    client = app.test_client()
    before = scrape(client, Authorization="Bearer s3")
    for _ in range(2):
        assert post(client, call("add", {"a": 1, "b": 1})).status_code == 401
    assert (
        post(client, call("add", {"a": 1, "b": 1}), **{"X-Key": "k"}).status_code == 200
    )
    after = scrape(client, Authorization="Bearer s3")
    name = "mcp_server_auth_refusals_total"
    assert (
        value(after, name, reason="unauthenticated", status="401")
        - value(before, name, reason="unauthenticated", status="401")
        == 2
    )


class TestWhoMayRead:
    """``/metrics`` is closed unless the operator opens it."""

    def test_closed_by_default_behind_the_servers_authenticate(
        self, tmp_path: Path, metrics_dir: Path
    ) -> None:
        def authenticate(request: t.Any) -> t.Any:
            return {"sub": "ops"} if request.headers.get("X-Key") == "k" else None

        app, _ = make_app(tmp_path, metrics_dir, authenticate)
        client = app.test_client()
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert b"mcp_server" not in refused.data
        assert client.get("/metrics", headers={"X-Key": "k"}).status_code == 200

    def test_closed_to_everyone_without_authenticate_and_said_so(
        self, tmp_path: Path, metrics_dir: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING, "flask_mcp.ops.metrics_view"):
            app, _ = make_app(tmp_path, metrics_dir, MCP_METRICS_PUBLIC=False)
        assert "answers 401 to everyone" in caplog.text
        assert app.test_client().get("/metrics").status_code == 401

    def test_a_token_opens_it(self, tmp_path: Path, metrics_dir: Path) -> None:
        app, _ = make_app(
            tmp_path, metrics_dir, MCP_METRICS_PUBLIC=False, MCP_METRICS_TOKEN="s3cr3t"
        )
        client = app.test_client()
        for given in (None, "Bearer nope", "Bearer s3cr3t2", "s3cr3t", "Bearer "):
            headers = {"Authorization": given} if given else {}
            refused = client.get("/metrics", headers=headers)
            assert refused.status_code == 401, given
            assert refused.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert scrape(client, Authorization="Bearer s3cr3t")

    def test_public_when_the_operator_says_so(
        self, tmp_path: Path, metrics_dir: Path
    ) -> None:
        app, _ = make_app(tmp_path, metrics_dir)
        assert scrape(app.test_client())

    def test_off_by_default(self, tmp_path: Path) -> None:
        app = Flask("plain", instance_path=str(tmp_path))
        FlaskMCP(app)
        assert app.test_client().get("/metrics").status_code == 404


class TestTheMetricsFolder:
    def test_one_that_cannot_be_written_fails_the_start(
        self, tmp_path: Path, metrics_dir: Path
    ) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        with pytest.raises(ValueError, match="cannot be written"):
            make_app(tmp_path, blocker / "metrics")

    def test_a_read_only_one_fails_the_start(
        self, tmp_path: Path, read_only_dir: Path
    ) -> None:
        with pytest.raises(ValueError, match="cannot be written.*Read-only"):
            make_app(tmp_path, read_only_dir)

    def test_one_process_writes_one_folder(
        self, tmp_path: Path, metrics_dir: Path
    ) -> None:
        make_app(tmp_path / "a", metrics_dir)
        with pytest.raises(ValueError, match="one folder per process"):
            make_app(tmp_path / "b", tmp_path / "other-metrics")

    def test_no_room_at_the_start_fails_the_start(
        self, tmp_path: Path, small_disk: Path
    ) -> None:
        """Each worker's files get their disk space when it starts."""
        script = f"""
from flask import Flask
from flask_mcp import FlaskMCP
app = Flask("full", instance_path={str(tmp_path / "instance")!r})
app.config.update(MCP_METRICS=True, MCP_METRICS_DIR={str(small_disk)!r},
                  MCP_METRICS_PUBLIC=True)
try:
    FlaskMCP(app)
except ValueError as error:
    print("REFUSED", error)
"""
        done = run_python(script)
        assert "REFUSED" in done.stdout and "has no room" in done.stdout

    def test_a_disk_that_fills_up_later_fails_nothing(
        self, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """The files are allocated up front: once the disk is full, calls and
        their metrics go on (prometheus_client's memory maps of sparse files
        would otherwise kill the worker with SIGBUS)."""
        with tiny_tmpfs(tmp_path / "disk", size="8m") as disk:
            script = f"""
import os
from flask import Flask
from flask_mcp import FlaskMCP
app = Flask("full", instance_path={str(tmp_path / "instance")!r})
app.config.update(MCP_METRICS=True, MCP_METRICS_DIR={str(disk)!r},
                  MCP_METRICS_PUBLIC=True, MCP_STATELESS=True)
mcp = FlaskMCP(app)
for i in range(40):
    mcp.tool(name=f"tool_{{i}}")(lambda text: text)
fd = os.open({str(disk / "filler")!r}, os.O_WRONLY | os.O_CREAT)
try:
    while True:
        os.write(fd, b"x" * 4096)
except OSError as error:
    print("FULL", error.errno)
    os.close(fd)
client = app.test_client()
codes = set()
for i in range(400):
    message = {{"jsonrpc": "2.0", "id": i, "method": "tools/call",
                "params": {{"name": f"tool_{{i % 40}}", "arguments": {{"text": "x"}}}}}}
    codes.add(client.post("/mcp", json=message,
        headers={{"Accept": "application/json, text/event-stream"}}).status_code)
text = client.get("/metrics").get_data(as_text=True)
counted = sum(float(line.split()[-1]) for line in text.splitlines()
              if line.startswith("mcp_server_operation_duration_seconds_count"))
print("CODES", sorted(codes), "COUNTED", counted)
"""
            done = run_python(script)
        assert "FULL 28" in done.stdout
        assert "CODES [200] COUNTED 400.0" in done.stdout


def test_gauges_of_dead_workers_are_dropped_at_the_scrape(
    tmp_path: Path, metrics_dir: Path
) -> None:
    app, _ = make_app(tmp_path, metrics_dir)
    # A worker that died holding two streams left its live-gauge file.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = metrics_dir / f"gauge_livesum_{child.pid}.db"
    ours = metrics_dir / f"gauge_livesum_{os.getpid()}.db"
    script = f"""
import os
os.environ["PROMETHEUS_MULTIPROC_DIR"] = {str(metrics_dir)!r}
from prometheus_client import Gauge, values
values.ValueClass = values.MultiProcessValue(lambda: {child.pid})
gauge = Gauge("mcp_server_streams_held", "", ["kind"], multiprocess_mode="livesum",
              registry=None)
gauge.labels("session").set(2)
"""
    run_python(script)
    assert dead.exists()
    found = scrape(app.test_client())
    assert not dead.exists()
    assert value(found, "mcp_server_streams_held", kind="session") == 0
    assert not ours.exists() or ours != dead


def test_nothing_optional_is_imported_when_ops_are_off(tmp_path: Path) -> None:
    """An app with the defaults never loads the optional packages."""
    script = f"""
import sys
from flask import Flask
from flask_mcp import FlaskMCP
app = Flask("plain", instance_path={str(tmp_path)!r})
mcp = FlaskMCP(app)
@mcp.tool
def echo(text: str) -> str:
    return text
client = app.test_client()
client.post("/mcp", json={{"jsonrpc": "2.0", "id": 1, "method": "ping"}},
            headers={{"Accept": "application/json, text/event-stream",
                     "MCP-Protocol-Version": "2025-03-26"}})
loaded = [m for m in ("prometheus_client", "opentelemetry", "flask_limiter", "limits")
          if m in sys.modules]
print("LOADED", loaded)
"""
    done = run_python(script)
    assert "LOADED []" in done.stdout
