"""The cache of client metadata documents, shared by every worker, and the
bounds that keep slow document hosts from tying up the workers.

Under gunicorn (2 sync workers, file store), concurrent sign-ins of one
client fetch its document once per lifetime: a request that finds another
worker fetching it gets 503 with ``Retry-After`` at once, then the stored
copy. One fetch per client address at a time; a failure is remembered for a
moment. A store outage answers 503 ``temporarily_unavailable``.
"""

from __future__ import annotations

import json
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from requests.adapters import HTTPAdapter

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
        "MCP_OAUTH_CIMD_FAILURE_CACHE": "1",
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
    for round_ in (1, 2):
        replies = race(authorize(served, url))
        assert len({r.headers["X-Worker-Pid"] for r in replies}) == 2
        # The request that fetches, and those after it, go on to consent; a
        # request that met the fetch in flight is told to come back at once.
        busy = [r for r in replies if r.status_code == 503]
        assert len(busy) + sum(r.status_code == 302 for r in replies) == len(replies)
        assert len(busy) < len(replies), [r.text for r in replies]
        for reply in busy:
            assert "temporarily_unavailable" in reply.text
            assert 1 <= int(reply.headers["Retry-After"]) <= 3
            assert reply.elapsed.total_seconds() < 0.5 + 0.3 + 0.5
        for _ in busy:  # when told: the stored copy
            assert authorize(served, url)().status_code == 302
        assert document_server.hits(doc_path) == round_
        time.sleep(5.2)  # the document's lifetime passes


def test_a_failed_fetch_is_remembered_briefly(served, document_server, doc_path):
    document_server.serve(doc_path, Answer(503, headers={"Retry-After": "60"}))
    url = document_server.url(doc_path)
    for _ in range(3):
        page = authorize(served, url)()
        assert page.status_code == 400 and "cannot be used" in page.text
        assert "503" not in page.text  # what the host answered is not told
    assert document_server.hits(doc_path) == 1
    assert "answered HTTP 503" in served.log()
    document_server.document(doc_path)
    time.sleep(1.1)  # MCP_OAUTH_CIMD_FAILURE_CACHE
    assert authorize(served, url)().status_code == 302
    assert authorize(served, url)().status_code == 302
    assert document_server.hits(doc_path) == 2


def test_a_refused_document_is_remembered_briefly(served, document_server, doc_path):
    url = document_server.document(doc_path, client_name=None)
    assert authorize(served, url)().status_code == 400
    document_server.document(doc_path)
    assert authorize(served, url)().status_code == 400  # still remembered
    time.sleep(1.1)
    assert authorize(served, url)().status_code == 302
    assert document_server.hits(doc_path) == 2


class _FromAddress(HTTPAdapter):
    """Connections from one loopback source address: a client of its own
    for the server's per-address limits."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_at(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", _FromAddress(address))
    return session


def test_a_slow_document_host_does_not_tie_up_the_workers(served, document_server):
    """Issue 14: a slow document host held a worker 5 s per fetch, and two
    connections from one address kept every other client waiting. Now one
    address has one fetch in flight (2 s at most), its other requests are
    refused at once, and the other worker serves everyone else."""
    slow = [f"/slow-host/{i}/client.json" for i in range(20)]
    for path in slow:
        document_server.document(path)
        document_server.answers[path].delay = 5.0  # longer than the timeout
    attacker = client_at("127.0.0.2")
    params = {
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
    }

    def attack(path: str) -> requests.Response:
        return attacker.get(
            served.url + "/oauth/authorize",
            params={**params, "client_id": document_server.url(path)},
            allow_redirects=False,
            timeout=30,
        )

    waits: list[float] = []
    with ThreadPoolExecutor(len(slow)) as pool:
        attacks = [pool.submit(attack, path) for path in slow]
        bystander = client_at("127.0.0.3")
        for _ in range(10):
            started = time.monotonic()
            reply = bystander.get(
                served.url + "/.well-known/oauth-authorization-server", timeout=30
            )
            waits.append(time.monotonic() - started)
            assert reply.status_code == 200
            time.sleep(0.1)
        replies = [future.result() for future in attacks]
    statuses = sorted(r.status_code for r in replies)
    # One fetch (cut at the deadline: the generic refusal), the others
    # refused at once with Retry-After.
    assert statuses.count(400) == 1, statuses
    assert statuses.count(429) == len(slow) - 1, statuses
    assert all(r.headers["Retry-After"] for r in replies if r.status_code == 429)
    assert sum(document_server.hits(path) for path in slow) == 1
    assert max(waits) < 1.0, waits


def test_many_addresses_one_slow_document_one_fetch(served, document_server):
    path = "/slow-host/shared/client.json"
    document_server.document(path)
    document_server.answers[path].delay = 5.0
    url = document_server.url(path)

    def ask(address: str) -> requests.Response:
        return client_at(address).get(
            served.url + "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": url,
                "redirect_uri": REDIRECT_URI,
                "code_challenge": pkce()[1],
                "code_challenge_method": "S256",
            },
            allow_redirects=False,
            timeout=30,
        )

    addresses = [f"127.0.1.{i}" for i in range(1, 11)]
    with ThreadPoolExecutor(len(addresses)) as pool:
        replies = list(pool.map(ask, addresses))
    statuses = sorted(r.status_code for r in replies)
    assert statuses.count(400) == 1 and statuses.count(503) == 9, statuses
    assert document_server.hits(path) == 1
    # The failure is remembered: nobody fetches it again for a moment.
    assert ask("127.0.1.99").status_code == 400
    assert document_server.hits(path) == 1


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
