"""The gateway's publishing endpoint goes away, then comes back.

The worker logs one error when it cannot publish and one warning when it
can again; meanwhile it keeps the notifications and holds new streams itself
(as without a gateway); streams held at the gateway get what was kept once
the gateway is back.
"""

from __future__ import annotations

import time
import typing as t

import pytest

from support import GunicornServer
from support import free_port
from support.forwarder import Forwarder
from support.pushpin import PushpinServer

from .origin import origin
from .test_pushpin import call
from .test_pushpin import lines_of
from .test_pushpin import raw_listen
from .test_pushpin import run
from .test_pushpin import sse_messages

#: Seconds the worker holds a listen itself (sync worker: a fixed time).
LISTEN_HOLD = 2


class Outage(t.NamedTuple):
    pushpin: PushpinServer
    control: Forwarder
    origin: GunicornServer


@pytest.fixture
def outage(tmp_path) -> t.Iterator[Outage]:
    origin_port = free_port()
    with PushpinServer([origin_port]) as pushpin:
        with Forwarder(pushpin.control_port) as control:
            env = {
                "GATEWAY_APP_INSTANCE": str(tmp_path),
                **pushpin.app_env(MCP_GRIP_HOLD=60, MCP_LISTEN_HOLD=LISTEN_HOLD),
                "MCP_GRIP_URL": f"http://127.0.0.1:{control.port}",
            }
            with origin(origin_port, env, workers=1) as server:
                yield Outage(pushpin, control, server)


def test_an_outage_is_logged_once_bridged_and_caught_up(outage: Outage) -> None:
    url = outage.pushpin.mcp_url
    announce = lambda kind: run(lambda: call(url, "announce", kind=kind))  # noqa: E731
    with raw_listen(url, "held") as held:
        held_lines = lines_of(held)
        sse_messages(held_lines, 1)
        outage.control.cut()
        for _ in range(3):
            announce("tools")  # the worker keeps them
        # While it cannot publish, the worker holds new listens itself: this
        # one ends with its result after the worker's fixed hold.
        started = time.monotonic()
        with raw_listen(url, "fallback") as fallback:
            ack, done = sse_messages(lines_of(fallback), 2)
        assert done == {
            "jsonrpc": "2.0",
            "id": "fallback",
            "result": {
                "resultType": "complete",
                "_meta": {"io.modelcontextprotocol/subscriptionId": "fallback"},
            },
        }
        assert LISTEN_HOLD - 0.5 < time.monotonic() - started < LISTEN_HOLD + 5
        outage.control.restore()
        caught_up = sse_messages(held_lines, 3)
    assert [m["method"] for m in caught_up] == ["notifications/tools/list_changed"] * 3
    log = outage.origin.log()
    assert log.count("unreachable") == 1, log
    deadline = time.monotonic() + 10
    while "reachable again" not in log and time.monotonic() < deadline:
        time.sleep(0.1)
        log = outage.origin.log()
    assert log.count("reachable again after") == 1, log
    assert "Traceback" not in log
    assert ack["method"] == "notifications/subscriptions/acknowledged"
