"""Two gunicorns (two "hosts") on one Redis behind one Pushpin.

Streams held at the gateway do not belong to the host that set them up: a
change made on either host reaches them, and their next parts (a 2025
session's new subscription) are served by whichever host is up.
"""

from __future__ import annotations

import contextlib
import json
import typing as t

import pytest
import redis
import requests

from support import GunicornServer
from support import RedisServer
from support import free_port
from support.pushpin import PushpinServer

from .origin import origin
from .test_pushpin import call
from .test_pushpin import initialize
from .test_pushpin import lines_of
from .test_pushpin import raw_listen
from .test_pushpin import run
from .test_pushpin import sse_events
from .test_pushpin import sse_messages

#: A Redis database of this module's own.
DATABASE = 5


class Hosts(t.NamedTuple):
    pushpin: PushpinServer
    first: GunicornServer
    second: GunicornServer


@pytest.fixture
def hosts(redis_server: RedisServer, tmp_path) -> t.Iterator[Hosts]:
    store = redis_server.url.rsplit("/", 1)[0] + f"/{DATABASE}"
    redis.Redis.from_url(store).flushdb()
    ports = [free_port(), free_port()]
    with contextlib.ExitStack() as stack:
        pushpin = stack.enter_context(
            PushpinServer(ports)
        )  # the first, then the second
        servers = [
            stack.enter_context(
                origin(
                    port,
                    {
                        "GATEWAY_APP_INSTANCE": str(tmp_path / str(port)),
                        "MCP_STORE_URL": store,
                        **pushpin.app_env(MCP_GRIP_HOLD=60),
                    },
                    clean_log=True,
                )
            )
            for port in ports
        ]
        yield Hosts(pushpin, *servers)


def test_streams_held_at_the_gateway_serve_every_host(hosts: Hosts) -> None:
    gateway = hosts.pushpin.mcp_url
    session = initialize(gateway)  # made by the first host
    with (
        raw_listen(gateway, "listener") as listen,
        requests.get(gateway, headers=session, stream=True, timeout=20) as get,
    ):
        listen_lines, get_lines = lines_of(listen), lines_of(get)
        sse_messages(listen_lines, 1)
        sse_events(get_lines, 1)
        # A change made on the second host, bypassing the gateway.
        run(lambda: call(hosts.second.mcp_url, "announce", kind="tools"))
        (changed,) = sse_messages(listen_lines, 1)
        ((_, data),) = sse_events(get_lines, 1)
        assert changed["method"] == json.loads(data)["method"]
        # The first host goes away: the gateway sends everything to the second.
        hosts.first.stop()
        subscribe = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "resources/subscribe",
            "params": {"uri": "test://watched"},
        }
        headers = {**session, "Accept": "application/json, text/event-stream"}
        answered = requests.post(gateway, json=subscribe, headers=headers, timeout=10)
        assert answered.status_code == 200, answered.text
        # The stream's next part (its new channels) comes from the second host.
        run(lambda: call(gateway, "touch", uri="test://watched"))
        ((_, data),) = sse_events(get_lines, 1)
        assert json.loads(data)["params"] == {"uri": "test://watched"}
        run(lambda: call(gateway, "announce", kind="tools"))
        (again,) = sse_messages(listen_lines, 1)
        assert again["method"] == "notifications/tools/list_changed"
