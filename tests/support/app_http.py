"""requests-style HTTP calls answered by a Flask app in the test's own process.

Tests of raw HTTP (status, headers, bodies) need no server: Flask's test
client runs the same WSGI stack gunicorn does, without a process, a port or a
wait. :class:`AppHTTP` gives such tests the few calls they used from
``requests`` (``request``, ``post``, ``get``) on one path of the app, and
:class:`Reply` the parts of a response they read. Keep gunicorn for what
only a server has: workers, restarts, chunked bodies on the wire.
"""

from __future__ import annotations

import json
import typing as t

from flask import Flask
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse


class Reply:
    """A response read whole: ``status_code``, ``headers``, ``content``,
    ``text`` and ``json()``, as ``requests.Response`` has them."""

    def __init__(self, response: TestResponse) -> None:
        self.status_code = response.status_code
        self.headers: Headers = response.headers
        self.content = response.get_data()

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> t.Any:
        return json.loads(self.content)


class AppHTTP:
    """Requests to ``path`` of ``app``, through its test client.

    :param app: the app under test.
    :param path: the path every call goes to (the MCP endpoint).
    """

    def __init__(self, app: Flask, path: str = "/mcp") -> None:
        self.app = app
        self.path = path
        self.client = app.test_client()

    def request(
        self,
        method: str,
        *,
        headers: t.Mapping[str, str] | None = None,
        data: str | bytes | None = None,
    ) -> Reply:
        response = self.client.open(
            self.path, method=method, headers=dict(headers or {}), data=data
        )
        try:
            return Reply(response)
        finally:
            response.close()

    def post(
        self, data: str | bytes | None, headers: t.Mapping[str, str] | None = None
    ) -> Reply:
        return self.request("POST", headers=headers, data=data)

    def get(self, headers: t.Mapping[str, str] | None = None) -> Reply:
        return self.request("GET", headers=headers)
