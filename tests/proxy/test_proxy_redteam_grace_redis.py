"""Second look at the refresh grace, where it is hardest: two gunicorn
workers on Redis, racing refreshes of one token from its client and from
another client, and refreshes after the window.

What must hold: the grace never gives anything to another client, never
forks a token family (every 200 carries the same pair), and a token
presented by another client ends the family, racing answers included.
"""

from __future__ import annotations

import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from support import GunicornServer
from support import RedisServer
from support import free_port

from .flow import Flow
from .flow import RequestsHttp

GRACE = 1.5
#: Each request first holds its worker this long: both workers take part.
DELAY = {"X-Test-Delay": "0.2"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, upstream) -> t.Iterator[t.Any]:
    instance = tmp_path_factory.mktemp("grace-redis") / "instance"
    port = free_port()
    with RedisServer() as redis:
        env = {
            "PROXY_TEST_INSTANCE": str(instance),
            "PROXY_TEST_BASE_URL": f"http://127.0.0.1:{port}",
            "PROXY_TEST_UPSTREAM": upstream.url,
            "MCP_STORE_URL": redis.url,
            "MCP_OAUTH_REFRESH_GRACE": str(GRACE),
        }
        with GunicornServer(
            app="tests.proxy.app:create_app()",
            env=env,
            workers=2,
            port=port,
            args=["--no-control-socket"],
            clean_log=True,
        ) as server:
            yield server


@pytest.fixture
def flow(served) -> Flow:
    return Flow(RequestsHttp(served.url), served.url + "/mcp")


def race(calls: list[t.Callable[[], requests.Response]]) -> list[requests.Response]:
    """All ``calls`` at once (released together by a barrier)."""
    barrier = threading.Barrier(len(calls))

    def one(call: t.Callable[[], requests.Response]) -> requests.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(one, calls))


def refresh(served, client: dict[str, t.Any], token: str, **form: t.Any):
    data = {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": client["client_id"],
        **form,
    }
    url = served.url + "/oauth/token"
    return lambda: requests.post(url, data=data, headers=DELAY, timeout=30)


def test_racing_refreshes_on_redis_get_one_pair(served, flow):
    tokens = flow.tokens()
    client = tokens["client"]
    replies = race([refresh(served, client, tokens["refresh_token"])] * 8)
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    assert len({r.text for r in replies}) == 1
    assert len({r.headers["X-Worker-Pid"] for r in replies}) == 2


def test_another_client_racing_the_owner_gets_nothing_and_ends_the_family(served, flow):
    tokens = flow.tokens()
    owner = tokens["client"]
    thief = flow.register(client_name="thief")
    calls = [refresh(served, owner, tokens["refresh_token"])] * 4 + [
        refresh(served, thief, tokens["refresh_token"])
    ] * 4
    replies = race(calls)
    assert len({r.headers["X-Worker-Pid"] for r in replies}) == 2
    stolen = replies[4:]
    assert all(r.status_code == 400 for r in stolen), [r.text for r in stolen]
    assert all(r.json()["error"] == "invalid_grant" for r in stolen)
    # Whatever the owner's requests got, one pair at most, and it is dead now.
    won = [r for r in replies[:4] if r.status_code == 200]
    assert len({r.text for r in won}) <= 1
    assert flow.whoami(tokens["access_token"]).status == 401
    for reply in won:
        pair = reply.json()
        assert flow.whoami(pair["access_token"]).status == 401
        late = refresh(served, owner, pair["refresh_token"])()
        assert late.status_code == 400


def test_the_grace_answer_is_not_served_for_another_resource_or_wider_scope(
    served, flow
):
    tokens = flow.tokens()
    client = tokens["client"]
    first = refresh(served, client, tokens["refresh_token"])()
    assert first.status_code == 200, first.text
    wider = refresh(
        served, client, tokens["refresh_token"], scope="mcp:read mcp:write"
    )()
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    other = refresh(
        served,
        client,
        tokens["refresh_token"],
        resource=served.url + "/other/mcp",
    )()
    assert other.status_code == 400 and other.json()["error"] == "invalid_target"
    # Refusals inside the window ended nothing; the pair works.
    assert flow.whoami(first.json()["access_token"]).status == 200
    # After the window, the old token is a reuse: the family ends.
    time.sleep(GRACE + 0.2)
    late = refresh(served, client, tokens["refresh_token"])()
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert flow.whoami(first.json()["access_token"]).status == 401
