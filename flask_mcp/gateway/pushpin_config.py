"""Configuration files for a Pushpin of our own, run as a normal user.

Debian's Pushpin reads ``/etc/pushpin/pushpin.conf``, runs as the ``pushpin``
user and expects a system ``zurl``. :class:`PushpinConfig` writes a
self-contained ``pushpin.conf`` and ``routes`` into one run folder instead:
the runner also starts ``zurl``, whose sockets, like every other ZeroMQ
socket of Pushpin's processes, live in that folder; only two TCP ports are
opened, the one clients connect to and the publishing (control) endpoint.

``make serve-gateway`` (:mod:`flask_mcp.gateway.runner`) and the test suite
use it; a production Pushpin is configured by hand, starting from what
:meth:`PushpinConfig.files` writes (``flask mcp gateway-config``).
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass
from pathlib import Path

#: Channels one held stream may follow; Pushpin's default (20) is too few
#: for a listen with a handful of resource subscriptions. Keep
#: ``connection_subscription_max`` of a hand-written configuration at least
#: this high (see :data:`flask_mcp.gateway.channels.MAX_CHANNELS`).
SUBSCRIPTIONS_PER_CONNECTION = 100

#: Deliveries per second (one notification to one held stream is one
#: delivery). Pushpin's default of 2,500 would take 0.8 s to tell 2,000
#: streams; this lets a notification reach tens of thousands within a second.
MESSAGE_RATE = 50_000

_KEY = re.compile(r"^[A-Za-z0-9._~-]{32,256}$")
_TARGET = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")


@dataclass(frozen=True)
class PushpinConfig:
    """One Pushpin in front of ``origins``.

    :param run_dir: folder for the configuration, sockets, pid and log files.
        ZeroMQ's ``ipc://`` paths must stay under 107 bytes: keep it short.
    :param port: where clients connect (``host:port``).
    :param control_port: Pushpin's HTTP publishing endpoint (``MCP_GRIP_URL``
        is ``http://<host>:<control_port>``).
    :param origins: ``host:port`` of the WSGI servers, tried in order.
    :param sig_key: the key Pushpin signs ``Grip-Sig`` with (``MCP_GRIP_KEY``).
    """

    run_dir: Path
    port: int
    control_port: int
    origins: tuple[str, ...]
    sig_key: str
    host: str = "127.0.0.1"
    max_connections: int = 50_000
    log_level: int = 2

    def __post_init__(self) -> None:
        if not _KEY.match(self.sig_key):
            raise ValueError(
                "sig_key must be 32 to 256 characters of A-Z a-z 0-9 . _ ~ -"
            )
        if not self.origins or not all(_TARGET.match(o) for o in self.origins):
            raise ValueError(f"origins must be host:port, not {self.origins!r}")
        if len(str(self.run_dir)) > 60:
            raise ValueError(
                f"run_dir {self.run_dir} is too long for ZeroMQ ipc:// paths"
            )

    @property
    def config_path(self) -> Path:
        return self.run_dir / "pushpin.conf"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "log"

    @property
    def grip_url(self) -> str:
        """``MCP_GRIP_URL`` for apps behind this Pushpin."""
        return f"http://{self.host}:{self.control_port}"

    def argv(self, binary: str = "pushpin") -> list[str]:
        """The command that runs Pushpin (and zurl, condure) with these files."""
        return [binary, "--config", str(self.config_path)]

    def leftover_pids(self) -> list[int]:
        """Processes of this Pushpin still running (from their pid files).

        Pushpin's runner starts each service in a process group of its own:
        if the runner is killed, they stay. A pid counts only while its
        command line names this run folder (pids get reused).
        """
        found = []
        for pid_file in self.run_dir.glob("*.pid"):
            try:
                pid = int(pid_file.read_text().strip())
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except (OSError, ValueError):
                continue
            if str(self.run_dir).encode() in command:
                found.append(pid)
        return sorted(found)

    def write(self) -> Path:
        """Write the files into ``run_dir``; the path of ``pushpin.conf``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name, text in self.files().items():
            (self.run_dir / name).write_text(text, encoding="utf-8")
        return self.config_path

    def files(self) -> dict[str, str]:
        """``pushpin.conf`` and ``routes``, by file name."""
        return {"pushpin.conf": self._conf(), "routes": self._routes()}

    def _routes(self) -> str:
        # Targets after the first are fallbacks (Pushpin tries them in order).
        return "* " + " ".join(self.origins) + "\n"

    def _conf(self) -> str:
        sections: dict[str, dict[str, t.Any]] = {
            "global": {
                "include": "{libdir}/internal.conf",
                "rundir": self.run_dir,
                "ipc_prefix": "pushpin-",
                "port_offset": 0,
                "stats_connection_ttl": 120,
            },
            "runner": {
                # The system zurl (Debian's default) is not ours to use.
                "services": "condure,zurl,pushpin-proxy,pushpin-handler",
                "http_port": f"{self.host}:{self.port}",
                "logdir": self.log_dir,
                "log_level": self.log_level,
                "client_buffer_size": 8192,
                "client_maxconn": self.max_connections,
                "condure_bin": "condure",
                "zurl_bin": "zurl",
            },
            "proxy": {
                "routesfile": "routes",
                "debug": "false",
                "auto_cross_origin": "false",
                "accept_x_forwarded_protocol": "false",
                "set_x_forwarded_protocol": "proto-only",
                # The client's address, and only it (a client's own
                # X-Forwarded-For is dropped): the app can trust it on
                # requests that carry a valid Grip-Sig.
                "x_forwarded_for": "truncate:0,append",
                "x_forwarded_for_trusted": "truncate:0,append",
                "orig_headers_need_mark": "",
                "accept_pushpin_route": "false",
                "log_from": "false",
                "log_user_agent": "false",
                "sig_iss": "pushpin",
                "sig_key": self.sig_key,
                "upstream_key": "",
                "updates_check": "off",
                "zurl_out_specs": "ipc://{rundir}/{ipc_prefix}zurl-in",
                "zurl_out_stream_specs": "ipc://{rundir}/{ipc_prefix}zurl-in-stream",
                "zurl_in_specs": "ipc://{rundir}/{ipc_prefix}zurl-out",
            },
            "handler": {
                "push_in_spec": "ipc://{rundir}/{ipc_prefix}push-in",
                "push_in_sub_specs": "ipc://{rundir}/{ipc_prefix}push-in-sub",
                "push_in_sub_connect": "false",
                "push_in_http_addr": self.host,
                "push_in_http_port": self.control_port,
                "push_in_http_max_headers_size": 10000,
                "push_in_http_max_body_size": 1000000,
                "stats_spec": "ipc://{rundir}/{ipc_prefix}stats",
                "command_spec": "ipc://{rundir}/{ipc_prefix}command",
                "message_rate": MESSAGE_RATE,
                "message_hwm": MESSAGE_RATE * 10,
                "message_wait": 5000,
                "id_cache_ttl": 60,
                "connection_subscription_max": SUBSCRIPTIONS_PER_CONNECTION,
                "subscription_linger": 60,
                "stats_subscription_ttl": 60,
                "stats_report_interval": 10,
                "stats_format": "tnetstring",
            },
        }
        lines = ["# Written by flask_mcp.gateway.pushpin_config; edit freely."]
        for section, values in sections.items():
            lines.append(f"\n[{section}]")
            lines.extend(f"{key}={value}" for key, value in values.items())
        return "\n".join(lines) + "\n"
