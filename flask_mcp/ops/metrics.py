"""Prometheus metrics of MCP operations, refusals, streams, the store and
the OAuth proxy, right across gunicorn's workers.

Each worker writes its numbers to memory-mapped files in one folder per host
(``prometheus_client``'s multiprocess mode); a scrape of any worker sums
them all (:mod:`.metrics_view`). The instruments exist once per process
(two objects for one series would overwrite each other's file entry) and
are made only when an app turns ``MCP_METRICS`` on: an app without metrics
never imports ``prometheus_client``.

Names follow the OpenTelemetry semantic conventions for MCP where they
exist (``mcp.server.operation.duration``, seconds, with its bucket
boundaries), written the way Prometheus writes them.
"""

from __future__ import annotations

import logging
import os
import threading
import typing as t
import uuid

from .. import signals
from .process_id import current_pid
from .receivers import connect
from .receivers import guarded

if t.TYPE_CHECKING:
    from flask import Flask

    from ..store import Store


log = logging.getLogger(__name__)

#: ``mcp.server.operation.duration``'s boundaries (semantic conventions),
#: with finer ones below 10 ms, where most tool calls of a Flask app end.
OPERATION_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.5,
    1,
    2,
    5,
    10,
    30,
    60,
    120,
    300,
)
STORE_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.1,
    0.5,
    2,
)
#: The names and labels the operations guide documents; stable.
LABELS = {
    "operation": ("method", "name", "outcome", "error_type"),
    "streams": ("kind",),
    "auth_refusals": ("reason", "status"),
    "limit_refusals": ("limit", "name"),
    "store": ("kind", "outcome"),
    "oauth": ("event", "outcome"),
    "task_legs": ("method", "name", "outcome", "error_type"),
}

#: Bytes of disk each metrics file of a worker gets before it is used.
PREALLOCATED = 1 << 20
#: The files of one worker: ``<prefix>_<pid>.db`` (one per kind of value).
FILE_PREFIXES = ("counter", "histogram", "gauge_livesum", "gauge_livemin")

_lock = threading.Lock()
_instruments: Instruments | None = None
_folder: str | None = None


def use_folder(path: str) -> str:
    """Make ``path`` this process's metrics folder; the real path.

    :raises ValueError: if it cannot be written, or another folder is
        already in use by this process (``prometheus_client`` keeps one).
    """
    global _folder
    real = os.path.realpath(path)
    _check_writable(real)
    with _lock:
        if _folder is not None:
            if _folder != real:
                raise ValueError(
                    f"MCP_METRICS_DIR {path!r}: this process already writes its"
                    f" metrics to {_folder!r} (one folder per process)"
                )
            return real
        given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if given and os.path.realpath(given) != real:
            raise ValueError(
                f"MCP_METRICS_DIR {path!r} differs from $PROMETHEUS_MULTIPROC_DIR"
                f" {given!r}: give one folder"
            )
        try:
            preallocate(real, os.getpid())
        except OSError as error:
            raise ValueError(
                f"MCP_METRICS_DIR {path!r} has no room for this worker's metrics"
                f" ({error.strerror or error})"
            ) from None
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = real
        from prometheus_client import values

        if not getattr(values.ValueClass, "_multiprocess", False):
            # NOTE: prometheus_client picks its value class when first
            # imported, from this variable; something imported it before
            # the app set it, so the choice is made again (before any of
            # our instruments exists). Its fork check asks for the pid on
            # every observation: given without a system call.
            values.ValueClass = values.MultiProcessValue(current_pid)
        _folder = real
        return real


def preallocate(folder: str, pid: int) -> None:
    """Give the metrics files of process ``pid`` their disk space now.

    ``prometheus_client`` writes through memory maps of sparse files: on a
    full disk, touching a page without a block behind it kills the worker
    with SIGBUS, which no ``except`` catches. Blocks allocated up front
    (``posix_fallocate``) make the first :data:`PREALLOCATED` bytes of each
    file safe; a full disk is then an error here, where it can be handled.

    :raises OSError: when the space cannot be had (``ENOSPC``).
    """
    for prefix in FILE_PREFIXES:
        path = os.path.join(folder, f"{prefix}_{pid}.db")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size < PREALLOCATED:
                os.posix_fallocate(fd, 0, PREALLOCATED)
        finally:
            os.close(fd)


def _check_writable(path: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".probe-{uuid.uuid4().hex}")
        with open(probe, "wb") as f:
            f.write(b"0")
        os.remove(probe)
    except OSError as error:
        raise ValueError(
            f"MCP_METRICS_DIR {path!r} cannot be written ({error.strerror or error});"
            " every worker writes its numbers there"
        ) from None


class Instruments:
    """The process's metric objects (made once, by :func:`instruments`)."""

    def __init__(self) -> None:
        from prometheus_client import Counter
        from prometheus_client import Gauge
        from prometheus_client import Histogram

        # registry=None: in multiprocess mode the numbers live in the files,
        # and the view collects from there.
        self.operation = Histogram(
            "mcp_server_operation_duration_seconds",
            "MCP request duration as the server sees it, from the start of its"
            " handler to its answer (mcp.server.operation.duration).",
            LABELS["operation"],
            buckets=OPERATION_BUCKETS,
            registry=None,
        )
        self.streams = Gauge(
            "mcp_server_streams_held",
            "Response streams holding a worker right now.",
            LABELS["streams"],
            multiprocess_mode="livesum",
            registry=None,
        )
        self.auth_refusals = Counter(
            "mcp_server_auth_refusals",
            "Requests refused by authentication or an access check.",
            LABELS["auth_refusals"],
            registry=None,
        )
        self.limit_refusals = Counter(
            "mcp_server_limit_refusals",
            "Requests refused by a rate limit (HTTP 429).",
            LABELS["limit_refusals"],
            registry=None,
        )
        self.store = Histogram(
            "mcp_store_operation_duration_seconds",
            "Duration of one call to the shared store.",
            LABELS["store"],
            buckets=STORE_BUCKETS,
            registry=None,
        )
        self.store_outages = Counter(
            "mcp_store_outages",
            "Outages of the shared store seen by a worker (first failure of each).",
            registry=None,
        )
        self.store_available = Gauge(
            "mcp_store_available",
            "1 while every live worker reaches the store, 0 while one does not.",
            multiprocess_mode="livemin",
            registry=None,
        )
        self.oauth = Counter(
            "mcp_oauth_events",
            "Sign-ins and token events of the OAuth proxy.",
            LABELS["oauth"],
            registry=None,
        )
        self.task_legs = Histogram(
            "mcp_server_task_leg_duration_seconds",
            "Duration of task legs run by task workers.",
            LABELS["task_legs"],
            buckets=OPERATION_BUCKETS,
            registry=None,
        )


def instruments() -> Instruments:
    """The process's instruments, made on first use."""
    global _instruments
    with _lock:
        if _instruments is None:
            _instruments = Instruments()
        return _instruments


class MetricsRecorder:
    """Counts what one app's servers announce (see :mod:`flask_mcp.signals`).

    :param folder: the metrics folder (:func:`use_folder`).
    :param stores: the stores of the app's servers (their outages count).
    """

    def __init__(self, app: Flask, folder: str, stores: t.Iterable[Store]) -> None:
        self.folder = folder
        #: The process whose files are allocated; a fork (gunicorn
        #: ``--preload``) makes new ones, allocated before their first write.
        self.pid = os.getpid()
        #: Set when this worker's files could not be allocated: it records
        #: nothing rather than risk SIGBUS (the scrape still reads the others).
        self.off = False
        self.instruments = instruments()
        self.instruments.store_available.set(1)
        #: The histograms' series by labels (bounded: the labels are).
        self._operations: dict[tuple[str, str, str, str], t.Any] = {}
        self._store: dict[tuple[str, str], t.Any] = {}
        self._task_legs: dict[tuple[str, str, str, str], t.Any] = {}
        connect(
            app,
            {
                signals.operation_finished: self.operation_finished,
                signals.task_leg_finished: self.task_leg_finished,
                signals.auth_refused: self.refused,
                signals.limit_refused: self.refused,
                signals.stream_opened: self.stream_opened,
                signals.stream_closed: self.stream_closed,
                signals.signed_in: self.oauth_event("sign_in"),
                signals.token_issued: self.oauth_event("token_issued"),
                signals.token_refreshed: self.oauth_event("token_refreshed"),
                signals.token_revoked: self.oauth_event("token_revoked"),
            },
        )
        self._healths: list[t.Any] = []
        for store in stores:
            self.add_store(store)

    def ready(self) -> bool:
        """Whether this process may write its metrics (see :attr:`off`)."""
        if self.off:
            return False
        pid = current_pid()
        if pid != self.pid:
            try:
                preallocate(self.folder, pid)
            except OSError as error:
                self.off = True
                log.error(
                    "metrics are off in worker %d: %s has no room for its files (%s)",
                    pid,
                    self.folder,
                    error.strerror or error,
                )
                return False
            self.pid = pid
        return True

    def add_store(self, store: Store) -> None:
        """Count the calls and outages of ``store`` (and its children) too."""
        if any(health is store.health for health in self._healths):
            return
        self._healths.append(store.health)
        connect(
            store.health,
            {
                signals.store_called: self.store_called,
                signals.store_unavailable: self.store_unavailable,
                signals.store_recovered: self.store_recovered,
            },
        )

    @guarded
    def operation_finished(self, sender: t.Any, operation: signals.Operation) -> None:
        if not self.ready():
            return
        labels = _operation_labels(operation)
        series = self._operations.get(labels)
        if series is None:  # labels() costs more than the observation
            series = self._operations[labels] = self.instruments.operation.labels(
                *labels
            )
        series.observe(operation.duration)

    @guarded
    def task_leg_finished(self, sender: t.Any, operation: signals.Operation) -> None:
        if not self.ready():
            return
        labels = _operation_labels(operation)
        series = self._task_legs.get(labels)
        if series is None:
            series = self._task_legs[labels] = self.instruments.task_legs.labels(
                *labels
            )
        series.observe(operation.duration)

    @guarded
    def refused(self, sender: t.Any, refusal: signals.Refusal) -> None:
        if not self.ready():
            return
        if refusal.kind == "limit":
            counter = self.instruments.limit_refusals
            # Only a tool's own limit names it: any string can be requested.
            name = refusal.name if refusal.reason == "tool" else None
            counter.labels(refusal.reason, name or "").inc()
        else:
            counter = self.instruments.auth_refusals
            counter.labels(refusal.reason, str(refusal.status)).inc()

    @guarded
    def stream_opened(self, sender: t.Any, stream: signals.Stream) -> None:
        if not self.ready():
            return
        self.instruments.streams.labels(stream.kind).inc()

    @guarded
    def stream_closed(self, sender: t.Any, stream: signals.Stream) -> None:
        if not self.ready():
            return
        self.instruments.streams.labels(stream.kind).dec()

    def oauth_event(self, name: str) -> t.Callable[..., None]:
        """The receiver of one OAuth signal, counted under ``name``."""
        counter = self.instruments.oauth

        @guarded
        def count(sender: t.Any, event: signals.AuthEvent) -> None:
            if not self.ready():
                return
            counter.labels(name, event.reason or event.outcome).inc()

        return count

    @guarded
    def store_called(
        self, sender: t.Any, kind: str, seconds: float, failed: bool
    ) -> None:
        if not self.ready():
            return
        key = (kind, "failed" if failed else "ok")
        series = self._store.get(key)
        if series is None:
            series = self._store[key] = self.instruments.store.labels(*key)
        series.observe(seconds)

    @guarded
    def store_unavailable(self, sender: t.Any, kind: str, error: Exception) -> None:
        if not self.ready():
            return
        self.instruments.store_outages.inc()
        self.instruments.store_available.set(0)

    @guarded
    def store_recovered(self, sender: t.Any, kind: str, seconds: float) -> None:
        if not self.ready():
            return
        self.instruments.store_available.set(1)


#: Methods counted under their name; any other is ``_OTHER`` (a client can
#: send any string, and every label value is a series).
METHODS = frozenset(
    {
        "initialize",
        "ping",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "server/discover",
        "subscriptions/listen",
        "tasks/get",
        "tasks/result",
        "tasks/list",
        "tasks/cancel",
    }
)


def _operation_labels(operation: signals.Operation) -> tuple[str, str, str, str]:
    method = operation.method if operation.method in METHODS else "_OTHER"
    if operation.outcome == "tool_error":
        error_type = "tool_error"
    elif operation.error_code is not None:
        error_type = str(operation.error_code)
    else:
        error_type = ""
    return method, operation.target, operation.outcome, error_type
