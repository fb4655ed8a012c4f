"""Leases on read models (PostgreSQL): one holder at a time, a standby takes over from a holder
whose session ended or whose lease expired, and the fence refuses a batch from a holder that
lost its lease, even one stalled inside its batch's transaction."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from ledger.commands import Ledger
from projections.digest import state_digest
from projections.leases import TTL, LeaseLost, Leases, holders
from projections.runner import READ_MODELS, Projector
from tests.factories import run, setup_ccm
from tests.faults.checks import rebuilt_digest


@pytest.fixture
def postgres_url(postgres_server) -> str:
    return postgres_server.create_database(f"l_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def projectors(postgres_url) -> Iterator[tuple[Projector, Projector]]:
    """Two projectors on one store holding a few events, as two workers would be."""
    ledger = Ledger(postgres_url)
    setup_ccm(ledger)
    ledger.close()
    with Projector(postgres_url) as first, Projector(postgres_url) as second:
        yield first, second


@contextmanager
def holder_and_standby(url: str, ttl: float = TTL) -> Iterator[tuple[Leases, Leases]]:
    """The leases of two workers, each on a session of its own: the first took every lease
    (for `ttl` seconds), the second stands by."""
    with psycopg.connect(url, autocommit=True) as a, psycopg.connect(url, autocommit=True) as b:
        holder, standby = Leases(a, READ_MODELS, ttl), Leases(b, READ_MODELS)
        assert holder.keep() == list(READ_MODELS)
        assert standby.keep() == []
        yield holder, standby


def pledge(url: str, n: int) -> None:
    ledger = Ledger(url)
    run(ledger, "pledge_commitment", id=f"c-{n}", party="HRV", provisions=["VAP:14"],
        text=f"Pledge {n}", due_on="2030-01-01")
    ledger.close()


def positions(projector: Projector) -> list[int]:
    return [projector.models[name].position() for name in READ_MODELS]


def test_one_worker_holds_each_lease_and_a_standby_takes_it_when_the_holders_session_ends(
        postgres_url):
    with holder_and_standby(postgres_url) as (first, second), Projector(postgres_url) as observer:
        assert first.keep() == list(READ_MODELS)  # renewed, still its own
        assert second.keep() == []
        shown = holders(observer.view)
        assert set(shown) == set(READ_MODELS) and {h.pid for h in shown.values()} == {first.pid}
        first.connection.close()  # as when the holder is killed: the server ends its session
        started = time.monotonic()
        while second.keep() != list(READ_MODELS):  # once the server has ended the session
            time.sleep(0.01)
        assert time.monotonic() - started < 1  # not at the lease's expiry, 5 s on
        assert set(holders(observer.view)) == set(READ_MODELS)


def test_a_holder_that_stalled_past_its_lease_is_refused_its_next_batch(
        postgres_url, projectors):
    a_projector, b_projector = projectors
    with holder_and_standby(postgres_url, ttl=0.5) as (a_leases, b_leases):
        a_projector.catch_up(fence=lambda cursor: a_leases.fence(cursor, READ_MODELS))
        pledge(postgres_url, 1)
        time.sleep(0.6)  # the holder stalls past its lease; the standby takes over
        assert b_leases.keep() == list(READ_MODELS)
        before = positions(a_projector)
        with pytest.raises(LeaseLost):
            a_projector.catch_up(fence=lambda cursor: a_leases.fence(cursor, READ_MODELS))
        assert positions(a_projector) == before  # its batch was rolled back whole
        assert a_leases.keep() == []  # it stands by
        b_projector.catch_up(fence=lambda cursor: b_leases.fence(cursor, READ_MODELS))
        assert positions(b_projector) > before
    assert state_digest(b_projector.view) == rebuilt_digest(postgres_url)


@contextmanager
def stalled_batch(projector: Projector, leases: Leases) -> Iterator[psycopg.Connection]:
    """A batch's transaction begun under `leases` (its lease rows locked), then left alone."""
    stalled = projector.view.datastore.pool.getconn()
    try:
        stalled.execute("BEGIN")
        leases.fence(stalled.cursor(), READ_MODELS)
        yield stalled
    finally:
        projector.view.datastore.pool.putconn(stalled)


def taken(standby: Leases, within: float) -> float:
    """Seconds until `standby` holds every lease."""
    started = time.monotonic()
    while standby.keep() != list(READ_MODELS):
        assert time.monotonic() - started < within
    return time.monotonic() - started


def test_a_holder_stalled_inside_its_batch_is_ended_by_the_server_before_the_standby_writes(
        postgres_url, projectors):
    a_projector, b_projector = projectors
    with holder_and_standby(postgres_url, ttl=1) as (a_leases, b_leases):
        with stalled_batch(a_projector, a_leases) as stalled:
            # the lease expires 1 s on; the standby cannot take it while the batch is open, and
            # takes it once the server has ended the idle transaction (after 1 s too)
            took = taken(b_leases, 5)
            # it resumes: the server has ended its session, so nothing it sends is written
            with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
                stalled.execute("INSERT INTO ledger_tracking VALUES ('state', 1)")
                stalled.execute("COMMIT")
        b_projector.catch_up(fence=lambda cursor: b_leases.fence(cursor, READ_MODELS))
    assert 1 <= took < 3
    assert state_digest(b_projector.view) == rebuilt_digest(postgres_url)


def test_a_holder_stalled_while_sending_a_statement_has_its_session_ended_by_the_standby(
        postgres_url, projectors):
    a_projector, b_projector = projectors
    with holder_and_standby(postgres_url, ttl=1) as (a_leases, b_leases):
        with stalled_batch(a_projector, a_leases) as stalled:
            # the server waits for the rest of the rows, cancelling nothing meanwhile
            with pytest.raises(psycopg.errors.AdminShutdown):  # ended by the standby
                with stalled.cursor().copy("COPY change_refs (ref, position) FROM STDIN") as copy:
                    copy.write_row(("party:HRV", 1))
                    took = taken(b_leases, 10)
        b_projector.catch_up(fence=lambda cursor: b_leases.fence(cursor, READ_MODELS))
    # the lease expired 1 s on, and 1 s later the standby may end the session; each of its
    # attempts meanwhile waits up to 1 s (its lock timeout) per lease on the locked rows
    assert 2 <= took < 8
    assert state_digest(b_projector.view) == rebuilt_digest(postgres_url)
