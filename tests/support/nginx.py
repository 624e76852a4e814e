"""A throwaway nginx (Debian's, ``make system``) in front of a test's server.

:class:`NginxServer` runs ``nginx -g 'daemon off;'`` with a configuration
written to its own folder: a ``server`` on a free port of 127.0.0.1 holding
the ``location`` blocks the test gives (the deployment guide's, read from the
page, with ``proxy_pass`` pointed at the test's upstream)::

    with NginxServer(locations, tmp_path) as nginx:
        requests.get(nginx.url + "/assistant/mcp")
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .processes import HOST
from .processes import ManagedProcess
from .processes import free_port
from .tiers import needs

_CONF = """\
worker_processes 1;
error_log {folder}/error.log info;
pid {folder}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen {host}:{port};
        {locations}
    }}
}}
"""


@needs("nginx")
class NginxServer(ManagedProcess):
    """nginx serving ``locations`` (nginx configuration text) on ``.url``.

    :param locations: ``location`` blocks for the one ``server``.
    :param folder: where its configuration, pid, logs and temp files go.
    """

    name = "nginx"

    def __init__(self, locations: str, folder: Path) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "nginx.conf"
        conf.write_text(
            _CONF.format(folder=folder, host=HOST, port=self.port, locations=locations)
        )
        super().__init__(
            [binary, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"]
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _wait_ready(self, deadline: float) -> None:
        self._wait_port(self.port, deadline)
