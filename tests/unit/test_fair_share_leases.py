"""Fair-share slots with a lease (streams held at a gateway): renewed by
their holder, freed at the stream's end, lapsing when nobody renews them;
a holder whose slot lapsed and went to someone else never touches it."""

from __future__ import annotations

import pytest

from flask_mcp.store import Store
from flask_mcp.store.backends.memory import MemoryStoreBackend
from flask_mcp.transport.fairshare import FairShare
from flask_mcp.transport.responses import HTTPError
from support.clock import Clock


def share(cap: int = 1) -> FairShare:
    return FairShare(Store(MemoryStoreBackend()), cap, 0, renew_every=5.0)


def test_a_leased_slot_lasts_its_lease_unless_renewed(clock: Clock) -> None:
    fair = share()
    ticket = fair.admit("alice", None, lease=10)
    assert len(ticket.keys) == 1
    clock.advance(8)
    fair.renew(ticket.keys, ticket.token, 10)  # now 10 s from here
    clock.advance(8)  # 16 s after admit: past the first lease
    with pytest.raises(HTTPError) as full:
        fair.admit("alice", None, lease=10)
    assert full.value.status == 429
    clock.advance(3)  # 11 s after the renewal: lapsed
    fair.admit("alice", None, lease=10)


def test_free_gives_the_slot_back_at_once(clock: Clock) -> None:
    fair = share()
    ticket = fair.admit("alice", None, lease=60)
    fair.free(ticket.keys, ticket.token)
    assert fair.admit("alice", None, lease=60).keys == ticket.keys


def test_a_lapsed_slot_taken_by_another_stream_stays_theirs(clock: Clock) -> None:
    """The late holder's renew and free leave the new owner's slot alone."""
    fair = share()
    late = fair.admit("alice", None, lease=10)
    clock.advance(11)
    owner = fair.admit("alice", None, lease=10)
    assert owner.keys == late.keys and owner.token != late.token
    fair.renew(late.keys, late.token, 60)
    fair.free(late.keys, late.token)
    assert fair.store.get(owner.keys[0]) == owner.token
    with pytest.raises(HTTPError):  # still full: the owner's
        fair.admit("alice", None, lease=10)
    clock.advance(11)  # the late renewal did not extend the owner's lease
    fair.admit("alice", None, lease=10)


def test_renew_takes_a_lapsed_slot_again_while_it_is_free(clock: Clock) -> None:
    fair = share()
    ticket = fair.admit("alice", None, lease=10)
    clock.advance(11)
    fair.renew(ticket.keys, ticket.token, 10)
    assert fair.store.get(ticket.keys[0]) == ticket.token
    with pytest.raises(HTTPError):
        fair.admit("alice", None, lease=10)


def test_leased_tickets_are_not_renewed_by_the_process(clock: Clock) -> None:
    """No renewal thread for them: only their holder keeps them alive."""
    fair = share()
    fair.admit("alice", None, lease=10)
    assert fair._thread is None
