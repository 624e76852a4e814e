"""A worker's threads: holds take spare ones and give them back on demand."""

from __future__ import annotations

from flask_mcp.transport.capacity import RESERVE
from flask_mcp.transport.capacity import Capacity


class Hold:
    def __init__(self) -> None:
        self.yielded = False
        self.stopped = False

    def yield_thread(self) -> None:
        self.yielded = True

    def stop(self) -> None:
        self.stopped = True


def running(capacity: Capacity, jobs: int) -> None:
    for _ in range(jobs):
        capacity.queued()
        capacity.started()


def test_unknown_capacity_holds_for_the_fixed_time() -> None:
    capacity = Capacity()
    assert capacity.admit(Hold()) == "short"


def test_holds_are_admitted_while_threads_are_to_spare() -> None:
    capacity = Capacity()
    capacity.attach(threads=8)
    holds = []
    for _ in range(8 - RESERVE):
        running(capacity, 1)  # the hold's own request
        hold = Hold()
        holds.append(hold)
        assert capacity.admit(hold) == "long"
    running(capacity, 1)
    assert capacity.admit(Hold()) == "none"  # it would take a reserved thread
    assert not any(hold.yielded for hold in holds)


def test_a_waiting_request_makes_the_oldest_hold_yield() -> None:
    capacity = Capacity()
    capacity.attach(threads=4)
    holds = []
    for _ in range(2):
        running(capacity, 1)
        holds.append(Hold())
        assert capacity.admit(holds[-1]) == "long"
    running(capacity, 2)  # two tool calls: every thread busy
    capacity.queued()  # a third request waits
    assert [hold.yielded for hold in holds] == [True, False]
    capacity.queued()
    assert holds[1].yielded


def test_no_hold_yields_while_a_thread_is_idle() -> None:
    capacity = Capacity()
    capacity.attach(threads=4)
    running(capacity, 1)
    hold = Hold()
    capacity.admit(hold)
    capacity.queued()  # taken by one of the idle threads
    assert not hold.yielded


def test_a_released_hold_is_not_asked_again() -> None:
    capacity = Capacity()
    capacity.attach(threads=3)
    running(capacity, 1)
    hold = Hold()
    capacity.admit(hold)
    capacity.release(hold)
    running(capacity, 2)
    capacity.queued()
    assert not hold.yielded


def test_stopping_ends_every_hold_and_admits_none() -> None:
    capacity = Capacity()
    capacity.attach(threads=8)
    holds = [Hold(), Hold()]
    for hold in holds:
        running(capacity, 1)
        capacity.admit(hold)
    assert capacity.stop() == 2
    assert all(hold.stopped for hold in holds)
    assert capacity.admit(Hold()) == "none"


def test_a_stop_requested_from_a_signal_handler_admits_none() -> None:
    capacity = Capacity()
    capacity.request_stop()
    assert capacity.stopping
    assert capacity.admit(Hold()) == "none"
