"""An app mounted under ``/tools`` behind a reverse proxy, for prefix tests.

:class:`FrontProxy` plays nginx's ``location /tools/ { proxy_pass
http://app/; proxy_set_header X-Forwarded-Prefix /tools; }``: only paths
under the prefix reach the app, without the prefix, and werkzeug's
``ProxyFix(x_prefix=1)`` turns the header into ``SCRIPT_NAME``.
"""

from __future__ import annotations

import os
import typing as t

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_mcp import FlaskMCP
from flask_mcp.auth.providers import OAuthProvider
from flask_mcp.auth.proxy import OAuthProxy

PREFIX = "/tools"
Environ = dict[str, t.Any]


class FrontProxy:
    def __init__(self, app: t.Any, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    def __call__(self, environ: Environ, start_response: t.Any) -> t.Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not behind this proxy"]
        environ["PATH_INFO"] = path[len(self.prefix) :] or "/"
        environ["HTTP_X_FORWARDED_PREFIX"] = self.prefix
        return self.app(environ, start_response)


def create_app() -> FrontProxy:
    public = os.environ["PREFIX_APP_URL"] + PREFIX  # what clients reach
    app = Flask(__name__, instance_path=os.environ["PREFIX_APP_INSTANCE"])
    provider = OAuthProvider(
        base_url=public,
        client_id="upstream-client",
        client_secret="upstream-secret",
        authorize_url="https://upstream.example/authorize",
        token_url="https://upstream.example/token",
        name="upstream",
    )
    mcp = FlaskMCP(app, name="prefixed", auth=OAuthProxy(provider, scopes=["mcp:read"]))

    @mcp.tool
    def hello() -> str:
        """Say hello."""
        return "hello"

    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)  # type: ignore[method-assign]
    return FrontProxy(app.wsgi_app, PREFIX)
