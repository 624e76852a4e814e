"""The cache of client metadata documents, shared by every worker.

Under gunicorn (2 sync workers, file store), concurrent sign-ins of one
client fetch its document once per lifetime: the worker that fetches holds
a store lock, the other waits and reads its result. A failed fetch is not
remembered. A store outage answers 503 ``temporarily_unavailable``.
"""

from __future__ import annotations

import json
import time
import typing as t

import pytest
import requests

from flask_mcp.auth.proxy import CIMDOptions
from flask_mcp.auth.proxy.cimd.fetch import Fetcher
from support import GunicornServer
from support import RedisServer
from support import free_port

from .documents import Answer
from .flow import REDIRECT_URI
from .flow import pkce
from .test_proxy_cimd_flow import client_of
from .test_proxy_gunicorn import race

#: Each request first holds its worker this long, so both workers take part.
DELAY = {"X-Test-Delay": "0.3"}


@pytest.fixture(scope="module")
def served(tmp_path_factory, upstream, test_ca) -> t.Iterator[GunicornServer]:
    instance = tmp_path_factory.mktemp("cimd-gunicorn") / "instance"
    port = free_port()
    env = {
        "PROXY_TEST_INSTANCE": str(instance),
        "PROXY_TEST_BASE_URL": f"http://127.0.0.1:{port}",
        "PROXY_TEST_UPSTREAM": upstream.url,
        "MCP_STORE_URL": None,
        "REQUESTS_CA_BUNDLE": str(test_ca.ca_file),
        "MCP_OAUTH_CIMD_ALLOW_HOSTS": json.dumps(["localhost"]),
        "MCP_OAUTH_CIMD_MIN_CACHE": "1",
    }
    with GunicornServer(
        app="tests.proxy.app:create_app()", env=env, workers=2, port=port
    ) as server:
        yield server
        log = server.log()
    assert "Traceback" not in log, log


def authorize(served, client_id: str) -> t.Callable[[], requests.Response]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
        "state": "s",
    }
    url = served.url + "/oauth/authorize"
    return lambda: requests.get(
        url, params=params, headers=DELAY, allow_redirects=False, timeout=30
    )


def test_one_fetch_per_lifetime_across_workers(served, document_server, doc_path):
    url = document_server.document(doc_path, cache="max-age=5")
    document_server.answers[doc_path].delay = 0.5  # both workers miss the cache
    first = race(authorize(served, url))
    assert {r.status_code for r in first} == {302}, [r.text for r in first]
    assert all("/oauth/consent?txn=" in r.headers["Location"] for r in first)
    assert len({r.headers["X-Worker-Pid"] for r in first}) == 2
    assert document_server.hits(doc_path) == 1
    time.sleep(5.2)  # the document's lifetime passed
    second = race(authorize(served, url))
    assert {r.status_code for r in second} == {302}
    assert document_server.hits(doc_path) == 2


def test_a_failed_fetch_is_retried_not_remembered(served, document_server, doc_path):
    document_server.serve(doc_path, Answer(503, headers={"Retry-After": "60"}))
    url = document_server.url(doc_path)
    for _ in range(2):
        page = authorize(served, url)()
        assert page.status_code == 400 and "answered HTTP 503" in page.text
    assert document_server.hits(doc_path) == 2
    document_server.document(doc_path)
    assert authorize(served, url)().status_code == 302
    assert authorize(served, url)().status_code == 302
    assert document_server.hits(doc_path) == 3


def test_a_refused_document_is_not_remembered(served, document_server, doc_path):
    url = document_server.document(doc_path, client_name=None)
    assert authorize(served, url)().status_code == 400
    document_server.document(doc_path)
    assert authorize(served, url)().status_code == 302
    assert document_server.hits(doc_path) == 2


@pytest.mark.parametrize(
    ("headers", "lifetime"),
    [
        ({}, 60),
        ({"Cache-Control": "max-age=600"}, 600),
        ({"Cache-Control": "public, max-age=600", "Age": "100"}, 500),
        ({"Cache-Control": "max-age=600, s-maxage=900"}, 900),
        ({"Cache-Control": "max-age=5"}, 60),
        ({"Cache-Control": "max-age=999999"}, 3600),
        ({"Cache-Control": "no-store"}, 60),
        ({"Cache-Control": "no-cache, max-age=600"}, 60),
        ({"Expires": "Thu, 01 Jan 1970 00:00:00 GMT"}, 60),
        ({"Expires": "not a date"}, 60),
    ],
)
def test_lifetime_follows_cache_control_within_bounds(headers, lifetime):
    fetcher = Fetcher(CIMDOptions(min_cache=60, max_cache=3600))
    assert fetcher.lifetime(headers) == lifetime


def test_a_store_outage_is_503(make_app, make_flow, documents, doc_path):
    with RedisServer() as redis:
        app = make_app(
            store_url=redis.url + "?socket_timeout=1",
            cimd=CIMDOptions(allow_hosts=("localhost",)),
        )
        flow = make_flow(app)
        url = documents.document(doc_path)
        assert flow.login(client_of(url)).params["code"]
        redis.stop()
        page = flow.authorize(client_of(url), challenge=pkce()[1])
        assert page.status == 503 and "temporarily_unavailable" in page.text
        form = {"grant_type": "refresh_token", "refresh_token": "r", "client_id": url}
        token = flow.post("/oauth/token", data=form)
        assert token.status == 503
        assert token.json()["error"] == "temporarily_unavailable"
