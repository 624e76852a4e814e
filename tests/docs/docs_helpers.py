"""Helpers of the docs tests (importable as ``docs_helpers``)."""

from __future__ import annotations

import threading
import typing as t
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from support.mcp_post import ACCEPT as ACCEPT_TYPES
from support.mcp_post import INIT

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = DOCS / "examples"
ACCEPT = {"Accept": ACCEPT_TYPES}
#: An ``initialize`` request (:mod:`support.mcp_post`).
INITIALIZE = INIT


def post_initialize(
    app: Flask, headers: t.Mapping[str, str] | None = None, path: str = "/mcp"
) -> TestResponse:
    """An ``initialize`` POST as a client sends it, for status and headers."""
    return app.test_client().post(
        path, json=INITIALIZE, headers={**ACCEPT, **(headers or {})}
    )


class LocalServer:
    """A WSGI app served on 127.0.0.1 in a thread, for upstream stand-ins."""

    def __init__(self, app: t.Callable[..., t.Any]) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
