"""``GET /metrics``: the numbers of every worker of this host, for Prometheus.

Any worker answers a scrape with the sum over the folder all of them write
to. The held-streams gauge of a worker that died (SIGKILL, a crash) would
otherwise count forever: before each scrape, the files of live gauges whose
process is gone are removed (``mark_process_dead``), so no gunicorn hook is
needed for that. Counters of dead workers stay: what they counted happened
(their files are cut down to what they hold).

Who may read: a static bearer token (``MCP_METRICS_TOKEN``, what Prometheus
sends with ``authorization: credentials``), anyone (``MCP_METRICS_PUBLIC``),
or by default whoever the server's ``authenticate`` lets in.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import re
import struct
import typing as t

from flask import Flask
from flask import request
from werkzeug.wrappers import Response

from ..transport.guard import AuthGate
from ..transport.guard import guarded
from ..transport.responses import json_response
from .ops_settings import OpsSettings

log = logging.getLogger(__name__)

ENDPOINT = "mcp_metrics"
_LIVE_GAUGE = re.compile(r"gauge_live\w+?_(\d+)\.db")
#: The files of a worker that outlive it, and their header: the bytes used
#: (a native int), then padding.
_COUNTED = ("counter", "histogram")
_USED = struct.Struct("i")
_HEADER = 8


def register_metrics_view(
    app: Flask, settings: OpsSettings, folder: str, gate_of: t.Callable[[], AuthGate]
) -> None:
    """Serve the metrics of ``folder`` at ``MCP_METRICS_PATH`` (once per app)."""
    if ENDPOINT in app.view_functions:
        return
    view = _view(folder)
    if settings.metrics_token:
        view = _token_protected(view, settings.metrics_token)
    elif not settings.metrics_public:
        if not gate_of().enabled:
            log.warning(
                "MCP_METRICS is on but %s answers 401 to everyone: the server has"
                " no authenticate. Set MCP_METRICS_TOKEN (and give it to the"
                " scraper) or MCP_METRICS_PUBLIC = True.",
                settings.metrics_path,
            )
        view = guarded(view, gate_of, None)
    app.add_url_rule(settings.metrics_path, ENDPOINT, view, methods=["GET"])


def _view(folder: str) -> t.Callable[[], Response]:
    from prometheus_client import CONTENT_TYPE_LATEST
    from prometheus_client import CollectorRegistry
    from prometheus_client import generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)

    def metrics() -> Response:
        _forget_dead_workers(folder)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    return metrics


def _token_protected(
    view: t.Callable[[], Response], token: str
) -> t.Callable[[], Response]:
    expected = f"Bearer {token}".encode()

    def metrics() -> Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            body = {"error": "invalid_token", "error_description": "metrics token"}
            challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
            return json_response(body, 401, challenge)
        return view()

    return metrics


def _forget_dead_workers(folder: str) -> None:
    """Drop the live-gauge files of processes that no longer exist, and
    shrink the files they counted in."""
    from prometheus_client.multiprocess import mark_process_dead

    try:
        names = os.listdir(folder)
    except OSError:
        return
    for pid in {int(m.group(1)) for n in names if (m := _LIVE_GAUGE.fullmatch(n))}:
        if not _alive(pid):
            _shrink(folder, pid)
            mark_process_dead(pid, folder)


def _shrink(folder: str, pid: int) -> None:
    """Cut the counter and histogram files of the dead ``pid`` to the bytes
    in use, which ``prometheus_client`` keeps in their first four: what it
    counted stays summed, and the megabyte each was preallocated (see
    :func:`~flask_mcp.ops.metrics.preallocate`) is freed, so that recycled
    workers do not fill the folder."""
    for prefix in _COUNTED:
        path = os.path.join(folder, f"{prefix}_{pid}.db")
        with contextlib.suppress(OSError, struct.error), open(path, "r+b") as file:
            (used,) = _USED.unpack(file.read(_USED.size))
            file.truncate(max(used, _HEADER))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
