"""Fair-share caps on streams held at a real Pushpin.

One Pushpin in front of one gunicorn (2 sync workers) with API keys, caps of
2 streams per principal and 3 per client address, and a next part every 1-2
seconds (``MCP_GRIP_REFRESH=2``): a stream held at the gateway takes its
slots as a worker-held one does, past a cap the extra stream gets 429 with
``Retry-After`` while the held ones keep working, and a client that leaves
(Pushpin never tells the server) gives its slot back within the lease.
"""

from __future__ import annotations

import time
import typing as t

import pytest
from streams.sse import Session
from streams.sse import Stream
from streams.sse import call
from streams.sse import listen

from flask_mcp.gateway.held import lease
from support import free_port
from support.pushpin import PushpinServer

from .origin import origin

REFRESH = 2
#: A principal or two for each test: a slot lapses only within its lease.
PRINCIPALS = ("alice", "bob", "carol", "dave", "erin")
ALICE, BOB, CAROL, DAVE, ERIN = ({"X-API-Key": f"key-{p}"} for p in PRINCIPALS)


@pytest.fixture(scope="module")
def pushpin(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[PushpinServer]:
    instance = tmp_path_factory.mktemp("gateway-caps")
    origin_port = free_port()
    with PushpinServer([origin_port]) as pushpin:
        env = {
            "GATEWAY_APP_INSTANCE": str(instance),
            "GATEWAY_API_KEYS": ",".join(f"key-{p}={p}" for p in PRINCIPALS),
            **pushpin.app_env(
                MCP_GRIP_HOLD=120,
                MCP_GRIP_REFRESH=REFRESH,
                MCP_HOLDS_PER_PRINCIPAL=2,
                MCP_HOLDS_PER_ADDRESS=3,
            ),
        }
        with origin(origin_port, env, clean_log=True):
            yield pushpin


def acked(stream: Stream) -> bool:
    return "notifications/subscriptions/acknowledged" in stream.methods()


def changed(stream: Stream) -> bool:
    return "notifications/tools/list_changed" in stream.methods()


def assert_rate_limited(stream: Stream, request_id: t.Any) -> None:
    assert stream.status == 429, stream.events
    assert int(stream.response.getheader("Retry-After")) >= 1
    body = stream.json()
    assert body["id"] == request_id
    assert body["error"]["code"] == -32029


def announce(pushpin: PushpinServer) -> None:
    """A tools/call through the gateway that changes the tool list."""
    answer = call(pushpin.port, "announce", {"kind": "tools"}, **BOB)
    answer.wait_end()
    assert answer.status == 200
    messages = answer.messages() if answer.events else [answer.json()]
    results = [m["result"] for m in messages if "result" in m]
    assert [r["content"][0]["text"] for r in results] == ["tools changed"], messages


def test_a_principal_past_its_cap_at_the_gateway_gets_429(
    pushpin: PushpinServer,
) -> None:
    """A listen and a 2025 GET stream take alice's two slots; her third
    stream (either kind) gets 429; bob is not affected, and the held
    streams keep working (a change reaches them) while two sync workers
    serve calls: they are held at the gateway, not by the workers."""
    port = pushpin.port
    held = listen(port, "a0", "127.0.30.1", **ALICE)
    session = Session(port, "127.0.30.2", **ALICE)
    get = session.get()
    held.wait_for(acked)
    get.wait_for(lambda s: len(s.events) >= 1)
    assert_rate_limited(listen(port, "a-over", "127.0.30.3", **ALICE), "a-over")
    assert session.get().status == 429
    other = listen(port, "b0", "127.0.30.3", **BOB)
    other.wait_for(acked)
    announce(pushpin)
    for stream in (held, other):
        stream.wait_for(changed, timeout=5)
    get.wait_for(
        lambda s: any(
            m.get("method") == "notifications/tools/list_changed" for m in s.messages()
        ),
        timeout=5,
    )
    assert [held.ended.is_set(), get.ended.is_set(), other.ended.is_set()] == [
        False
    ] * 3
    for stream in (held, get, other):
        stream.close()


def test_an_address_past_its_cap_at_the_gateway_gets_429(
    pushpin: PushpinServer,
) -> None:
    """The cap counts the client's address (the one Pushpin forwards), not
    Pushpin's: three streams from one address fill it, another address is
    free."""
    port, address = pushpin.port, "127.0.31.1"
    held = [
        listen(port, "c0", address, **CAROL),
        listen(port, "c1", address, **DAVE),
        listen(port, "c2", address, **DAVE),
    ]
    for stream in held:
        stream.wait_for(acked)
    assert_rate_limited(listen(port, "c-over", address, **CAROL), "c-over")
    elsewhere = listen(port, "d0", "127.0.31.2", **CAROL)
    elsewhere.wait_for(acked)
    for stream in [*held, elsewhere]:
        stream.close()


def test_a_client_that_leaves_gives_its_slot_back_within_the_lease(
    pushpin: PushpinServer,
) -> None:
    """Pushpin never tells the server that a client left: the slot of the
    closed stream lapses within the lease of its last next part, while the
    open stream's slot, renewed by each next part, outlives its first lease."""
    port, longest = pushpin.port, lease(REFRESH)
    opened = time.monotonic()
    kept = listen(port, "e0", "127.0.32.1", **ERIN)
    leaving = listen(port, "e1", "127.0.32.2", **ERIN)
    kept.wait_for(acked)
    leaving.wait_for(acked)
    assert_rate_limited(listen(port, "e-over", "127.0.32.3", **ERIN), "e-over")
    leaving.close()
    closed = time.monotonic()
    while True:
        again = listen(port, "e-again", "127.0.32.3", **ERIN)
        if again.status == 200:
            break
        assert again.status == 429
        assert time.monotonic() - closed < longest + 3, "the slot was never freed"
        time.sleep(0.25)
    again.wait_for(acked)
    # Past the first lease of every slot: only renewals keep kept's alive.
    time.sleep(max(0.0, opened + longest + 1 - time.monotonic()))
    assert_rate_limited(listen(port, "e-full", "127.0.32.3", **ERIN), "e-full")
    assert not kept.ended.is_set()
    announce(pushpin)
    kept.wait_for(changed, timeout=5)
    for stream in (kept, again):
        stream.close()
