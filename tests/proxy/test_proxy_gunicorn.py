"""The proxy under gunicorn (2 sync workers, file store): every step works on
whichever worker it lands, and single-use values are redeemed exactly once
when several workers race for them."""

from __future__ import annotations

import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from flask_mcp.auth.proxy.keyfiles import KEY_FOLDER
from support import GunicornServer
from support import free_port

from .flow import Flow
from .flow import RequestsHttp

PARALLEL = 10
#: Seconds of the refresh grace here (the default is 5).
GRACE = 1.5


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, upstream) -> t.Iterator[t.Any]:
    instance = tmp_path_factory.mktemp("gunicorn") / "instance"
    port = free_port()
    env = {
        "PROXY_TEST_INSTANCE": str(instance),
        "PROXY_TEST_BASE_URL": f"http://127.0.0.1:{port}",
        "PROXY_TEST_UPSTREAM": upstream.url,
        "MCP_STORE_URL": None,
        "MCP_OAUTH_REFRESH_GRACE": str(GRACE),
    }
    with GunicornServer(
        app="tests.proxy.app:create_app()",
        env=env,
        workers=2,
        port=port,
        clean_log=True,
    ) as server:
        server.instance = instance
        yield server


@pytest.fixture
def flow(served) -> Flow:
    return Flow(RequestsHttp(served.url), served.url + "/mcp")


def race(calls: t.Callable[[], requests.Response]) -> list[requests.Response]:
    """Fire ``PARALLEL`` calls at once (released together by a barrier)."""
    barrier = threading.Barrier(PARALLEL)

    def one(_: int) -> requests.Response:
        barrier.wait()
        return calls()

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, range(PARALLEL)))


#: Each request first holds its worker this long: both workers are busy at
#: once, so both take part in every race.
DELAY = {"X-Test-Delay": "0.3"}


def token_request(served, data):
    url = served.url + "/oauth/token"
    return lambda: requests.post(url, data=data, headers=DELAY, timeout=30)


def test_workers_generated_one_key(served):
    files = sorted(p.name for p in Path(served.instance, KEY_FOLDER).iterdir())
    assert files == ["mcp.encryption.key", "mcp.signing.jwks"]
    kids = set()
    for _ in range(6):
        kids.add(requests.get(served.url + "/oauth/jwks", timeout=10).text)
    assert len(kids) == 1


def test_full_flow_across_workers(served, flow):
    tokens = flow.tokens()
    headers = {"Authorization": f"Bearer {tokens['access_token']}", **DELAY}
    replies = race(
        lambda: requests.get(served.url + "/whoami", headers=headers, timeout=30)
    )
    assert all(r.status_code == 200 for r in replies)
    assert len({r.headers["X-Worker-Pid"] for r in replies}) == 2
    rotated = flow.refresh(tokens["client"], tokens["refresh_token"])
    assert rotated.status == 200


def test_concurrent_code_redemption(served, flow):
    login = flow.login()
    client = login.client
    data = {
        "grant_type": "authorization_code",
        "code": login.code,
        "redirect_uri": client["redirect_uris"][0],
        "code_verifier": login.verifier,
        "client_id": client["client_id"],
    }
    replies = race(token_request(served, data))
    won = [r for r in replies if r.status_code == 200]
    lost = [r for r in replies if r.status_code != 200]
    # At most one wins: a loser that sees the code already redeemed takes it
    # for a replay and ends the grant, which can come before the winner's
    # tokens are issued (then none wins: RFC 9700 4.2.4 prefers that).
    assert len(won) <= 1, [r.text for r in replies]
    assert all(r.status_code == 400 for r in lost)
    assert all(r.json()["error"] == "invalid_grant" for r in lost)
    assert len({r.headers["X-Worker-Pid"] for r in replies}) == 2
    # The code was replayed: what it issued is revoked (at the latest now).
    requests.post(served.url + "/oauth/token", data=data, timeout=30)
    for reply in won:
        assert flow.whoami(reply.json()["access_token"]).status == 401


def test_concurrent_refresh(served, flow):
    tokens = flow.tokens()
    data = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": tokens["client"]["client_id"],
    }
    replies = race(token_request(served, data))
    # Racing refreshes (two requests in flight...) all get the same new pair,
    # whichever worker they land on.
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    assert len({r.text for r in replies}) == 1
    assert len({r.headers["X-Worker-Pid"] for r in replies}) == 2
    pair = replies[0].json()
    assert flow.whoami(pair["access_token"]).status == 200
    # The new refresh token works once more.
    rotated = flow.refresh(tokens["client"], pair["refresh_token"])
    assert rotated.status == 200
    # A reuse of the first token after the grace ends the family.
    time.sleep(GRACE + 0.2)
    late = requests.post(served.url + "/oauth/token", data=data, timeout=30)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert flow.whoami(rotated.json()["access_token"]).status == 401


def test_two_refreshes_on_two_workers(served, flow):
    """Issue 16, item 6: a client sends the same refresh twice a moment
    apart; the first holds one worker, the second lands on the other."""
    tokens = flow.tokens()
    data = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": tokens["client"]["client_id"],
    }
    url = served.url + "/oauth/token"
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(
            requests.post, url, data=data, headers={"X-Test-Delay": "0.5"}, timeout=30
        )
        time.sleep(0.1)  # the first request is in its worker's hands
        fast = pool.submit(requests.post, url, data=data, timeout=30)
        replies = [slow.result(), fast.result()]
    assert [r.status_code for r in replies] == [200, 200], [r.text for r in replies]
    assert replies[0].json() == replies[1].json()
    assert replies[0].headers["X-Worker-Pid"] != replies[1].headers["X-Worker-Pid"]
    assert flow.whoami(replies[0].json()["access_token"]).status == 200


def test_concurrent_callback(served, flow):
    """The upstream state is redeemed once: one browser tab wins."""
    client = flow.register()
    from .flow import pkce

    reply = flow.consent(flow.authorize(client, challenge=pkce()[1]))
    upstream = flow.upstream.get(reply.location, allow_redirects=False, timeout=10)
    callback = upstream.headers["Location"]
    cookies = flow.http.session.cookies

    def call() -> requests.Response:
        return requests.get(
            callback, cookies=cookies, headers=DELAY, allow_redirects=False, timeout=30
        )

    replies = race(call)
    assert sorted(r.status_code for r in replies) == [302] + [400] * (PARALLEL - 1)
    assert len({r.headers["X-Worker-Pid"] for r in replies}) == 2


def test_a_chunked_body_stops_at_the_limit(served):
    """No Content-Length: the body is read up to the limit, then refused."""

    def chunks() -> t.Iterator[bytes]:
        yield b"grant_type=authorization_code&code="
        for _ in range(100):
            yield b"x" * 1024

    reply = requests.post(
        served.url + "/oauth/token",
        data=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert reply.status_code == 413, reply.text
    assert reply.json()["error"] == "invalid_request"


def test_registrations_are_counted_across_workers(served):
    """Last in this module: it spends the address's registrations (20 an hour)."""
    body = {"redirect_uris": ["http://127.0.0.1:8765/callback"]}
    replies = race(
        lambda: requests.post(
            served.url + "/oauth/register", json=body, headers=DELAY, timeout=30
        )
    ) + [
        requests.post(served.url + "/oauth/register", json=body, timeout=30)
        for _ in range(20)
    ]
    created = [r for r in replies if r.status_code == 201]
    refused = [r for r in replies if r.status_code == 429]
    assert len(created) + len(refused) == len(replies)
    assert len(created) <= 20 and len(refused) >= 10
    assert all(int(r.headers["Retry-After"]) > 0 for r in refused)
    assert len({r.headers["X-Worker-Pid"] for r in replies}) == 2
