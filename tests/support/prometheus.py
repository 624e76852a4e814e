"""A real Prometheus (Debian ``prometheus``) scraping test servers.

::

    with PrometheusServer(folder, ["127.0.0.1:8000"], token="s3") as prom:
        ...load the server...
        prom.wait_for_scrape_after(time.time())
        prom.query('sum by (method) (mcp_server_operation_duration_seconds_count)')

Its configuration and data live in ``folder`` (a ``tmp_path``); it listens on
a free loopback port and scrapes every ``interval`` (``/metrics``, with
``Authorization: Bearer <token>`` when a token is given).
"""

from __future__ import annotations

import json
import shutil
import time
import typing as t
import urllib.parse
import urllib.request
from pathlib import Path

from .processes import HOST
from .processes import ManagedProcess
from .processes import free_port
from .tiers import needs

__all__ = ["PrometheusServer"]


@needs("prometheus")
class PrometheusServer(ManagedProcess):
    name = "prometheus"

    def __init__(
        self,
        folder: Path,
        targets: t.Sequence[str],
        *,
        token: str | None = None,
        interval: str = "1s",
        metrics_path: str = "/metrics",
    ) -> None:
        binary = shutil.which("prometheus") or "/usr/bin/prometheus"
        if not Path(binary).exists():
            raise FileNotFoundError("prometheus not found: run `make system`")
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        job: dict[str, t.Any] = {
            "job_name": "mcp",
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "metrics_path": metrics_path,
            "static_configs": [{"targets": list(targets)}],
        }
        if token is not None:
            job["authorization"] = {"type": "Bearer", "credentials": token}
        config = folder / "prometheus.yml"
        # JSON is YAML: no YAML writer needed.
        config.write_text(json.dumps({"scrape_configs": [job]}))
        super().__init__(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address={HOST}:{self.port}",
                "--log.level=warn",
            ],
            cwd=folder,
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _wait_ready(self, deadline: float) -> None:
        self._wait_port(self.port, deadline)
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            self._timed_out(deadline, "/-/ready")
            time.sleep(0.1)

    def query(self, expression: str, at: float | None = None) -> list[dict[str, t.Any]]:
        """The result vector of an instant query."""
        params = {"query": expression}
        if at is not None:
            params["time"] = f"{at:.3f}"
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as reply:
            body = json.load(reply)
        if body.get("status") != "success":
            raise RuntimeError(f"prometheus refused {expression!r}: {body}")
        return t.cast("list[dict[str, t.Any]]", body["data"]["result"])

    def wait_for_scrape_after(self, moment: float, timeout: float = 30.0) -> None:
        """Wait until every target was scraped successfully after ``moment``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # timestamp() of the raw series: an expression's result carries
            # the evaluation time instead.
            times = self.query('timestamp(up{job="mcp"})')
            ups = self.query('up{job="mcp"}')
            if (
                times
                and all(float(r["value"][1]) > moment for r in times)
                and all(r["value"][1] == "1" for r in ups)
            ):
                return
            time.sleep(0.2)
        raise TimeoutError(f"no successful scrape after {moment} in {timeout} s")
