"""The proxy's calls to the upstream are bounded: a token endpoint that drips
its answer ends the login at the provider's ``timeout`` (with a small margin),
one that answers 30 MB or a 30 MB userinfo answer at once; each with
``temporarily_unavailable`` at the client's redirect URI naming the call,
never a 500 or a worker held for as long as upstream likes."""

from __future__ import annotations

import time
import typing as t

import pytest
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from support.slow_upstream import DEADLINE
from support.slow_upstream import within_deadline

from .test_proxy_authorize import assert_redirected_error
from .test_proxy_upstream_failures import fake  # noqa: F401  (fixture)
from .test_proxy_upstream_failures import keys  # noqa: F401  (fixture)
from .test_proxy_upstream_failures import logged
from .test_proxy_upstream_failures import start


def dripping(request: Request) -> Response:
    def body() -> t.Iterator[bytes]:
        yield b'{"access_token": "at"'
        for _ in range(60):  # 30 s at most, ended by the client's going
            time.sleep(0.5)
            yield b" " * 100

    return Response(body(), content_type="application/json", direct_passthrough=True)


def large(request: Request) -> Response:
    def body() -> t.Iterator[bytes]:
        yield b'{"access_token": "at", "sub": "user-1", "padding": "'
        for _ in range(480):  # 30 MB
            yield b"a" * 65536
        yield b'"}'

    return Response(body(), content_type="application/json", direct_passthrough=True)


@pytest.fixture
def login(make_app, make_flow, fake):  # noqa: F811  (the imported fixture)
    """Runs a login up to the callback with the provider's timeout at
    ``DEADLINE``; the callback's reply and when it was asked for."""

    def run(**provider_options: t.Any) -> tuple[t.Any, t.Any, float]:
        provider = fake.provider(**provider_options)
        provider.timeout = DEADLINE
        flow = make_flow(make_app(provider=provider))
        client, reply = start(flow)
        upstream = flow.upstream.get(reply.location, allow_redirects=False, timeout=10)
        started = time.monotonic()
        return client, flow.get(upstream.headers["Location"]), started

    return run


def test_a_dripping_token_endpoint(login, fake, caplog):  # noqa: F811
    fake.server.route("POST", fake.url["token"], dripping)
    client, done, started = login()
    within_deadline(started)
    params = assert_redirected_error(done, client, "temporarily_unavailable")
    assert "token endpoint" in params["error_description"]
    assert logged(caplog, "the login failed at the token endpoint")


@pytest.mark.parametrize("endpoint", ["token", "userinfo"])
def test_a_30_mb_answer(login, fake, caplog, endpoint):  # noqa: F811
    method = "POST" if endpoint == "token" else "GET"
    fake.server.route(method, fake.url[endpoint], large)
    client, done, started = login(fetch_userinfo=True)
    assert time.monotonic() - started < 1.5
    params = assert_redirected_error(done, client, "temporarily_unavailable")
    assert f"{endpoint} endpoint" in params["error_description"]
    assert logged(caplog, f"the login failed at the {endpoint} endpoint")
