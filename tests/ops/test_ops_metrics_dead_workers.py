"""What a worker that died leaves in the metrics folder: its counts, summed
by every later scrape, in files cut down to what they hold (each was given
a megabyte up front; recycled workers would fill a small tmpfs)."""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.ops.metrics import PREALLOCATED

from .helpers import run_python
from .helpers import scrape
from .helpers import value

DURATION = "mcp_server_operation_duration_seconds_count"
REFUSALS = "mcp_server_auth_refusals_total"

#: A worker: three calls of its own tool, two requests refused, then exit.
WORKER = """
import os
from flask import Flask
from flask_mcp import FlaskMCP
app = Flask("dead_worker", instance_path={instance!r})
app.config.update(MCP_METRICS=True, MCP_METRICS_DIR={folder!r}, MCP_STATELESS=True)
mcp = FlaskMCP(app, authenticate=lambda request: request.headers.get("X-Key"))
mcp.tool(name="left_behind")(lambda: "x")
client = app.test_client()
headers = {{"Accept": "application/json, text/event-stream"}}
for i in range(5):
    message = {{"jsonrpc": "2.0", "id": i, "method": "tools/call",
                "params": {{"name": "left_behind", "arguments": {{}}}}}}
    key = {{"X-Key": "k"}} if i < 3 else {{}}
    answer = client.post("/mcp", json=message, headers={{**headers, **key}})
    assert answer.status_code == (200 if key else 401)
print(os.getpid())
"""


def test_a_dead_workers_files_shrink_and_its_counts_stay(
    tmp_path: Path, metrics_dir: Path
) -> None:
    app = Flask("scraper", instance_path=str(tmp_path / "instance"))
    app.config.update(
        MCP_METRICS=True,
        MCP_METRICS_DIR=str(metrics_dir),
        MCP_METRICS_PUBLIC=True,
        MCP_STATELESS=True,
    )
    FlaskMCP(app)
    client = app.test_client()
    before = scrape(client)

    script = WORKER.format(instance=str(tmp_path / "worker"), folder=str(metrics_dir))
    pid = int(run_python(script).stdout)
    kept = [metrics_dir / f"{kind}_{pid}.db" for kind in ("counter", "histogram")]
    assert [path.stat().st_size for path in kept] == [PREALLOCATED] * 2

    after = scrape(client)
    for path in kept:
        size = path.stat().st_size
        assert 8 < size < 64 * 1024
        assert int.from_bytes(path.read_bytes()[:4], sys.byteorder) == size
        assert path.stat().st_blocks * 512 < PREALLOCATED  # the room is freed
    assert not list(metrics_dir.glob(f"gauge_live*_{pid}.db"))
    assert value(after, DURATION, name="left_behind") == 3
    assert value(after, REFUSALS) - value(before, REFUSALS) == 2
