"""The examples of the operations guide: the production settings, the audit
log's configuration, the gunicorn hook of the metrics folder, a signal
receiver; and the dashboard picture, drawn from its recorded data."""

from __future__ import annotations

import json
import logging
import types
import typing as t
from pathlib import Path

import pytest
from docs_helpers import ACCEPT
from docs_helpers import DOCS

from benchmarks import dashboard
from flask_mcp.ops import AuditFileHandler
from flask_mcp.ops.metrics import LABELS


@pytest.fixture
def clean_audit_logger() -> t.Iterator[logging.Logger]:
    logger = logging.getLogger("flask_mcp.audit")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield logger
    for handler in logger.handlers:
        handler.close()
    logger.handlers, logger.level, logger.propagate = saved[0], saved[1], saved[2]


def test_production_settings(
    load_example: t.Callable[..., types.ModuleType],
    redis_server: t.Any,
    tmp_path: Path,
) -> None:
    redis_server.flushall()
    # A process writes its metrics to one folder: the one other tests of this
    # process chose, if any.
    from flask_mcp.ops import metrics as metrics_module

    metrics = metrics_module._folder or str(tmp_path / "metrics")
    example = load_example(
        "operations",
        env={
            "REDIS_URL": redis_server.url,
            "METRICS_DIR": metrics,
            "METRICS_TOKEN": "t0ken",
            "OAUTH_ISSUER": "https://auth.example.com",
        },
    )
    client = example.app.test_client()
    assert client.get("/metrics").status_code == 401
    scraped = client.get("/metrics", headers={"Authorization": "Bearer t0ken"})
    assert scraped.status_code == 200
    assert client.get("/readyz").status_code == 200
    tool = example.mcp.registry.tools["refund"]
    assert tool.rate_limit == "10/minute"
    assert example.app.extensions["mcp"]["mcp"].endpoint.limiter is not None
    refused = client.post("/mcp", json={}, headers=ACCEPT)
    assert refused.status_code == 401


def test_audit_logging_configuration(
    load_example: t.Callable[..., types.ModuleType],
    tmp_path: Path,
    clean_audit_logger: logging.Logger,
) -> None:
    target = tmp_path / "audit.jsonl"
    load_example("audit_logging", env={"AUDIT_LOG": str(target)})
    assert clean_audit_logger.propagate is False
    (handler,) = clean_audit_logger.handlers
    assert isinstance(handler, AuditFileHandler)
    clean_audit_logger.info('{"event": "test"}')
    handler.flush()  # the writer thread's turn, now
    assert json.loads(target.read_text()) == {"event": "test"}


def test_the_gunicorn_hook_empties_the_metrics_folder(
    load_example: t.Callable[..., types.ModuleType], tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    config = load_example("gunicorn_metrics", env={"METRICS_DIR": str(folder)})
    config.on_starting(server=None)
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert config.workers == 4


def test_a_signal_receiver(load_example: t.Callable[..., types.ModuleType]) -> None:
    example = load_example("signal_receiver")

    @example.mcp.tool
    def slow() -> str:
        return "done"

    from flask_mcp import signals

    operation = signals.Operation(method="tools/call", name="slow")
    operation.finish("ok")
    operation.duration = 2.5
    signals.operation_finished.send(example.app, operation=operation)
    assert example.slow_calls == [("slow", 2.5)]


def test_the_dashboard_picture_is_drawn_from_its_data() -> None:
    data = json.loads(dashboard.DATA.read_text())
    assert dashboard.SVG.read_text() == dashboard.draw(data), (
        "run python -m benchmarks.dashboard"
    )
    assert (DOCS / "_static" / dashboard.SVG.name).is_file()
    # Every panel asks for metrics the guide documents.
    names = {
        "mcp_server_operation_duration_seconds",
        "mcp_server_auth_refusals_total",
        "mcp_server_limit_refusals_total",
        "mcp_server_streams_held",
        "mcp_store_operation_duration_seconds",
    }
    for _, _, queries in dashboard.PANELS:
        for query in queries.values():
            assert any(name in query for name in names), query
    assert set(LABELS) >= {"operation", "streams", "store"}
