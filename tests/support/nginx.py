"""A throwaway nginx in front of a WSGI server, with a configuration of ours.

``NginxServer(server_block, folder)``: ``server_block`` is the inside of an
``http { }`` block (``upstream``, ``server``...) with ``{port}`` where nginx
listens; the helper adds the main context (no daemon, one worker, every
file and temporary folder in ``folder``) and runs Debian's nginx on a free
port. ``.url`` is ``http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .processes import HOST
from .processes import ManagedProcess
from .processes import free_port
from .tiers import needs


@needs("gateway")
class NginxServer(ManagedProcess):
    """nginx serving ``server_block`` (see the module docstring)."""

    name = "nginx"

    def __init__(self, server_block: str, folder: Path) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.access(binary, os.X_OK):
            raise FileNotFoundError("nginx not found: run `make system`")
        self.port = free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        temp = {
            name: folder / name
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        }
        for path in temp.values():
            path.mkdir(exist_ok=True)
        # As root, nginx's workers would run as nobody, who cannot write here.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        config = (
            f"{user}worker_processes 1;\ndaemon off;\n"
            f"pid {folder / 'nginx.pid'};\n"
            f"error_log {folder / 'error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n    access_log off;\n"
            + "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items())
            + server_block.replace("{port}", str(self.port))
            + "\n}\n"
        )
        self.config_path = folder / "nginx.conf"
        self.config_path.write_text(config, encoding="utf-8")
        super().__init__(
            [
                binary,
                "-p",
                str(folder),
                "-e",
                str(folder / "error.log"),
                "-c",
                str(self.config_path),
            ],
            cwd=folder,
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log(self) -> str:
        error_log = self.folder / "error.log"
        text = error_log.read_text("utf-8", "replace") if error_log.is_file() else ""
        return super().log() + "\n--- error.log ---\n" + text

    def _wait_ready(self, deadline: float) -> None:
        self._wait_port(self.port, deadline)
