"""Caps on held streams per client address and per principal, counted in the
store across workers: past a cap, 429 with ``Retry-After`` and a JSON-RPC
error; a worker that dies gives its slots back when their leases lapse."""

from __future__ import annotations

import os
import signal
import time
import typing as t
from pathlib import Path

import pytest

from support import GunicornServer

from .sse import Session
from .sse import Stream
from .sse import listen
from .test_holding import held_server

#: Each test of the shared server has principals of its own: slots of a
#: stream a test closed are freed when its worker notices (its next write).
KEYS = "key-alice=alice,key-bob=bob,key-carol=carol,key-dave=dave"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[GunicornServer]:
    """Two workers, caps of 3 per address and 2 per principal."""
    with held_server(
        tmp_path_factory.mktemp("fair"),
        threads=16,
        workers=2,
        HELD_API_KEYS=KEYS,
        MCP_HOLDS_PER_ADDRESS="3",
        MCP_HOLDS_PER_PRINCIPAL="2",
    ) as srv:
        yield srv


def acked(stream: Stream) -> bool:
    return "notifications/subscriptions/acknowledged" in stream.methods()


def assert_rate_limited(stream: Stream, request_id: t.Any) -> None:
    assert stream.status == 429
    assert int(stream.response.getheader("Retry-After")) >= 1
    body = stream.json()
    assert body["id"] == request_id
    assert body["error"]["code"] == -32029
    assert body["error"]["data"]["retryAfter"] >= 1


def test_one_address_gets_its_cap_and_no_more(server: GunicornServer) -> None:
    address = "127.0.10.1"
    held = [
        listen(server.port, f"a{n}", address, **{"X-API-Key": "key-alice"})
        if n == 0
        else listen(server.port, f"a{n}", address, **{"X-API-Key": "key-bob"})
        for n in range(2)
    ]
    session = Session(server.port, address, **{"X-API-Key": "key-bob"})
    get = session.get()  # a 2025 GET stream counts too
    held.append(get)
    for stream in held[:2]:
        stream.wait_for(acked)
    get.wait_for(lambda s: len(s.events) >= 1)
    over = listen(server.port, "a-over", address, **{"X-API-Key": "key-alice"})
    assert_rate_limited(over, "a-over")
    over_get = session.get()
    assert over_get.status == 429
    # Another address is not affected.
    elsewhere = listen(server.port, "b0", "127.0.10.2", **{"X-API-Key": "key-alice"})
    elsewhere.wait_for(acked)
    # A stream that ends gives its slot back.
    held[0].close()
    deadline = time.monotonic() + 5
    while True:
        again = listen(server.port, "a-again", address, **{"X-API-Key": "key-alice"})
        if again.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert again.status == 200
    for stream in [*held, elsewhere, again]:
        stream.close()


def test_one_principal_gets_its_cap_from_any_address(server: GunicornServer) -> None:
    key = {"X-API-Key": "key-carol"}
    held = [listen(server.port, f"p{n}", f"127.0.11.{n + 1}", **key) for n in range(2)]
    for stream in held:
        stream.wait_for(acked)
    over = listen(server.port, "p-over", "127.0.11.9", **key)
    assert_rate_limited(over, "p-over")
    other = listen(server.port, "q0", "127.0.11.9", **{"X-API-Key": "key-dave"})
    other.wait_for(acked)
    for stream in [*held, other]:
        stream.close()


def test_the_slots_of_a_dead_worker_lapse(tmp_path: Path) -> None:
    """SIGKILL leaves no worker to release or renew: the slots expire."""
    with held_server(
        tmp_path, threads=16, workers=1, MCP_HOLDS_PER_ADDRESS="2"
    ) as server:
        address = "127.0.12.1"
        held = [listen(server.port, f"d{n}", address) for n in range(2)]
        for stream in held:
            stream.wait_for(acked)
        assert listen(server.port, "d-over", address).status == 429
        (worker,) = server.pids()
        os.kill(worker, signal.SIGKILL)
        for stream in held:
            stream.wait_end()
        # Leases of 3 x MCP_LEASE_INTERVAL x 5 = 3 s.
        deadline = time.monotonic() + 15
        while True:
            try:
                again = listen(server.port, "d-again", address)
            except OSError:  # the new worker is starting
                again = None
            if again is not None and again.status == 200:
                break
            assert time.monotonic() < deadline, "the dead worker's slots never lapsed"
            time.sleep(0.2)
        again.close()
