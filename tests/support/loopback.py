"""A WSGI app served over real HTTP on 127.0.0.1, from a thread of the test.

For stand-ins of remote services (an issuer's discovery document, a JWKS, a
provider's token endpoint) that the code under test reaches with
``requests``. It runs in this process, so it belongs to the ``http`` tier
and needs nothing but the venv::

    with LoopbackServer(app) as server:
        requests.get(server.url + "/path")
"""

from __future__ import annotations

import threading
import typing as t

from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

from .tiers import needs

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["LoopbackServer"]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr."""

    def log_request(self, *args: t.Any, **kwargs: t.Any) -> None:
        pass


@needs("http")
class LoopbackServer:
    """A threaded werkzeug server for ``app`` on a free port of 127.0.0.1.

    It serves from construction until :meth:`close` (or the end of a
    ``with`` block); ``url`` is ``http://127.0.0.1:PORT``.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self._server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def close(self) -> None:
        """Stop serving; a second call does nothing."""
        if not self._thread.is_alive():
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
