"""A throwaway Pushpin (the GRIP gateway) in front of WSGI servers.

``PushpinServer(origins=[gunicorn.port], sig_key=None)``: writes its own
configuration (:class:`flask_mcp.gateway.pushpin_config.PushpinConfig`) into
a short temporary folder, runs ``pushpin`` (with condure and zurl) there on
free ports, and removes it all on exit. ``.url`` is where clients connect,
``.grip_url`` the publishing endpoint (``MCP_GRIP_URL``), ``.sig_key`` the
``Grip-Sig`` key (``MCP_GRIP_KEY``); :meth:`app_env` gives both as the
environment of a :class:`~support.GunicornServer`. The origin's port may be
chosen before the origin starts (``free_port()``): Pushpin connects per
request.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import tempfile
import time
import typing as t
from collections.abc import Iterable
from pathlib import Path

from flask_mcp.gateway.pushpin_config import PushpinConfig

from .processes import HOST
from .processes import ManagedProcess
from .processes import free_port
from .tiers import needs


@needs("gateway")
class PushpinServer(ManagedProcess):
    """A real Pushpin on 127.0.0.1 (see the module docstring)."""

    name = "pushpin"
    stop_timeout = 5.0

    def __init__(
        self,
        origins: Iterable[int | str],
        *,
        sig_key: str | None = None,
        port: int | None = None,
        log_level: int = 2,
    ) -> None:
        binary = shutil.which("pushpin")
        if binary is None:
            raise FileNotFoundError("pushpin not found: run `make system`")
        # ZeroMQ ipc:// paths are short: /tmp/pp-XXXXXXXX, not tmp_path.
        self.run_dir = Path(tempfile.mkdtemp(prefix="pp-", dir="/tmp"))
        self.port = port or free_port()
        self.config = PushpinConfig(
            run_dir=self.run_dir,
            port=self.port,
            control_port=free_port(),
            origins=tuple(o if isinstance(o, str) else f"{HOST}:{o}" for o in origins),
            sig_key=sig_key or secrets.token_hex(32),
            log_level=log_level,
        )
        self.config.write()
        super().__init__(self.config.argv(binary), cwd=self.run_dir)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def mcp_url(self) -> str:
        return self.url + "/mcp"

    @property
    def grip_url(self) -> str:
        return self.config.grip_url

    @property
    def control_port(self) -> int:
        return self.config.control_port

    @property
    def sig_key(self) -> str:
        return self.config.sig_key

    def app_env(self, **extra: t.Any) -> dict[str, str]:
        """``MCP_GRIP_URL`` and ``MCP_GRIP_KEY`` (and ``extra``) for an origin."""
        return {
            "MCP_GRIP_URL": self.grip_url,
            "MCP_GRIP_KEY": self.sig_key,
            **{k: str(v) for k, v in extra.items()},
        }

    def log(self) -> str:
        """The runner's output, then every service's log file."""
        if self._final_log is not None:
            return self._final_log
        parts = [super().log()]
        log_dir = self.config.log_dir
        if log_dir.is_dir():
            for path in sorted(log_dir.glob("*.log")):
                text = path.read_text("utf-8", "replace")
                parts.append(f"--- {path.name} ---\n{text}")
        return "\n".join(parts)

    def stop(self) -> None:
        super().stop()
        for pid in self.config.leftover_pids():  # the runner died first
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        self.stop()
        everything = self.log()
        super().close()
        self._final_log = everything
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def _wait_ready(self, deadline: float) -> None:
        """Ready once a request went through the whole chain (condure, the
        proxy, zurl): its port listens before its services are linked, and
        a request that comes in between is dropped. Any answer counts (a
        502 when the origin is not up yet)."""
        self._wait_port(self.port, deadline)
        self._wait_port(self.config.control_port, deadline)
        while True:
            self._check_alive()
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                try:
                    conn.request("GET", "/.pushpin-ready")
                    conn.getresponse().read()
                finally:
                    conn.close()
                return
            except (OSError, http.client.HTTPException):
                self._timed_out(deadline, "no answer through Pushpin")
                time.sleep(0.1)
