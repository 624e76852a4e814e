"""One thread per process follows the bus for every held stream."""

from __future__ import annotations

import socket
import threading
import time
import typing as t

import pytest

from flask_mcp.store import Store
from flask_mcp.transport import follower as follower_module
from flask_mcp.transport.bus import Change
from flask_mcp.transport.bus import NotificationBus
from flask_mcp.transport.bus import list_channel
from flask_mcp.transport.bus import resource_channel
from flask_mcp.transport.events import EventLog
from flask_mcp.transport.follower import Follower

from .backends import CountingBackend

TOOLS = Change("notifications/tools/list_changed", {})
PROMPTS = Change("notifications/prompts/list_changed", {})


class Hold:
    """A hold as the follower sees it: records what it is handed after its
    position, as the worker's holds do."""

    def __init__(self, *channels: str) -> None:
        self.channels = frozenset(channels)
        self.after = 0
        self.got: list[tuple[int, Change]] = []
        self.woken = threading.Event()
        self.left = threading.Event()
        self.failed = threading.Event()

    def deliver(self, position: int, change: Change) -> None:
        if position > self.after:
            self.got.append((position, change))
            self.woken.set()

    def gone(self) -> None:
        self.left.set()

    def fail(self) -> None:
        self.failed.set()


@pytest.fixture
def backend() -> CountingBackend:
    return CountingBackend()


@pytest.fixture
def bus(backend: CountingBackend) -> NotificationBus:
    return NotificationBus(EventLog(Store(backend), ttl=60))


@pytest.fixture
def follower(bus: NotificationBus) -> t.Iterator[Follower]:
    follower = Follower(bus, interval=0.01)
    yield follower


def wait(event: threading.Event) -> None:
    assert event.wait(5), "nothing happened within 5 s"


def test_changes_reach_only_the_holds_on_their_channel(
    bus: NotificationBus, follower: Follower
) -> None:
    tools, prompts = Hold(list_channel("tools")), Hold(list_channel("prompts"))
    assert follower.follow(tools) == follower.follow(prompts) == 0
    position = bus.publish(TOOLS)
    wait(tools.woken)
    assert tools.got == [(position, TOOLS)]
    bus.publish(PROMPTS)
    wait(prompts.woken)
    assert [c for _, c in prompts.got] == [PROMPTS]
    assert [c for _, c in tools.got] == [TOOLS]
    follower.unfollow(tools)
    follower.unfollow(prompts)


def test_a_resource_update_reaches_the_followers_of_that_uri(
    bus: NotificationBus, follower: Follower
) -> None:
    mine, other = Hold(resource_channel("a://1")), Hold(resource_channel("a://2"))
    follower.follow(mine)
    follower.follow(other)
    bus.publish(Change("notifications/resources/updated", {"uri": "a://1"}))
    wait(mine.woken)
    time.sleep(0.05)
    assert len(mine.got) == 1 and other.got == []


def test_idle_holds_cost_one_read_per_tick_however_many(
    backend: CountingBackend, follower: Follower
) -> None:
    """A hundred idle holds cost what one does: the follower's read per tick."""

    def reads_per_second(holds: int) -> float:
        followed = [Hold(list_channel("tools")) for _ in range(holds)]
        for hold in followed:
            follower.follow(hold)
        before, start = backend.reads, time.monotonic()
        time.sleep(0.5)
        rate = (backend.reads - before) / (time.monotonic() - start)
        for hold in followed:
            follower.unfollow(hold)
        return rate

    one, hundred = reads_per_second(1), reads_per_second(100)
    assert one <= 1 / 0.01 * 1.2  # one read per 10 ms tick, at most
    assert hundred <= one * 1.5 + 10


def test_the_thread_stops_after_the_last_hold(
    monkeypatch: pytest.MonkeyPatch, follower: Follower
) -> None:
    monkeypatch.setattr(follower_module, "LINGER", 0.05)
    hold = Hold(list_channel("tools"))
    follower.follow(hold)
    thread = follower._thread
    assert thread is not None and thread.is_alive()
    follower.unfollow(hold)
    thread.join(5)
    assert not thread.is_alive()
    # and a new hold starts it again
    follower.follow(hold)
    assert follower._thread is not None and follower._thread.is_alive()
    follower.unfollow(hold)


def test_a_missing_entry_is_skipped_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
    backend: CountingBackend,
    bus: NotificationBus,
    follower: Follower,
) -> None:
    """A publisher that died between counting and writing leaves a hole; the
    log moves past it instead of stalling every stream for ever."""
    monkeypatch.setattr(follower_module, "GAP_TIMEOUT", 0.2)
    hold = Hold(list_channel("tools"))
    follower.follow(hold)
    store = Store(backend)
    store.incr("evn:_bus:all", 60)  # counted, never written
    position = bus.publish(TOOLS)
    started = time.monotonic()
    wait(hold.woken)
    assert hold.got == [(position, TOOLS)]
    assert time.monotonic() - started >= 0.15
    follower.unfollow(hold)


def test_a_store_failure_fails_every_hold(
    backend: CountingBackend, follower: Follower
) -> None:
    holds = [Hold(list_channel("tools")), Hold(list_channel("prompts"))]
    for hold in holds:
        follower.follow(hold)
    backend.down = True
    for hold in holds:
        wait(hold.failed)
    backend.down = False
    for hold in holds:
        follower.unfollow(hold)


def test_a_client_that_leaves_is_noticed_at_once(follower: Follower) -> None:
    server, client = socket.socketpair()
    hold = Hold(list_channel("tools"))
    follower.follow(hold, server)
    client.close()
    started = time.monotonic()
    wait(hold.left)
    assert time.monotonic() - started < 1
    follower.unfollow(hold)
    server.close()


def test_a_log_that_went_back_is_followed_from_its_new_end(
    backend: CountingBackend, bus: NotificationBus, follower: Follower
) -> None:
    """Redis restarted without its data: positions start again at 1."""
    for _ in range(3):
        bus.publish(PROMPTS)
    hold = Hold(list_channel("tools"))
    assert follower.follow(hold) == 3
    hold.after = 3  # it has everything up to there (what a holder sets)
    Store(backend).delete("evn:_bus:all")
    time.sleep(0.05)
    position = bus.publish(TOOLS)
    assert position == 1
    wait(hold.woken)
    assert hold.got == [(1, TOOLS)]
    follower.unfollow(hold)
