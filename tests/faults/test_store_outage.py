"""PostgreSQL stopped (as by a crash) for a while under write and read load: the API answers 503
problem+json with Retry-After, quickly and never 500; `/-/ready` fails; then everything
recovers by itself, and nothing accepted is lost or recorded twice."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from api.tokens import TokenStore
from ledger.commands import Ledger
from tests import postgres
from tests.conftest import IN_CI
from tests.factories import setup_ccm
from tests.faults.checks import (
    assert_versions_are_gapless,
    caught_up_digest,
    event_ids,
    log_content,
    Threads,
    rebuilt_digest,
    wait_until_projected,
)
from tests.servers import serving

#: seconds the API may wait for a connection (?connect_timeout=): a request during the outage
#: must be answered well before eventsourcing's ten tries of this would be over
CONNECT_TIMEOUT = 1
ANSWERED_WITHIN = 5.0
READS = ("/-/ready", "/v1/changes?limit=5", "/v1/parties/HRV", "/feeds/changes.atom")


@dataclass
class Call:
    path: str
    started: float
    took: float
    status: int
    content_type: str = ""
    retry_after: str | None = None
    events: tuple[str, ...] = ()  # a write's, when recorded
    position: int = 0  # a recorded write's log position; for /-/ready, the projector's


@pytest.fixture(scope="module")
def crashable_postgres() -> Iterator[postgres.Server]:
    """A server of its own, durable through a crash (the shared one trades that for speed)."""
    try:
        server = postgres.start(durable=True)
    except Exception as error:
        if IN_CI:
            pytest.fail(f"cannot start a throwaway PostgreSQL server: {error}")
        pytest.skip(f"cannot start a throwaway PostgreSQL server: {error}")
    yield server
    server.stop()


class Load(Threads):
    """Writers that resend each refused command with its idempotency key until it is
    recorded, as a careful client does, and readers; every call is kept."""

    def __init__(self, base: str, token: str, writers: int, readers: int) -> None:
        super().__init__()
        self.base, self.token, self.calls = base, token, []
        self.ids = itertools.count()
        self.threads += [threading.Thread(target=self._write) for _ in range(writers)]
        self.threads += [threading.Thread(target=self._read, args=(READS[n % len(READS)],))
                         for n in range(readers)]

    def _call(self, client: httpx.Client, method: str, path: str, **kwargs: object) -> Call:
        started = time.monotonic()
        response = client.request(method, path, **kwargs)
        call = Call(path, started, time.monotonic() - started, response.status_code,
                    response.headers.get("content-type", ""), response.headers.get("retry-after"))
        if response.status_code == 201:
            call.events = tuple(response.json()["events"])
            call.position = int(response.headers.get("ledger-position", 0))
        elif path == "/-/ready" and response.status_code == 200:
            call.position = response.json()["projected_position"]
        self.calls.append(call)
        return call

    def _write(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self.stopping.is_set():
                n = next(self.ids)
                body = {"id": f"outage-{n}", "party": "HRV", "provisions": ["VAP:14"],
                        "text": f"Pledge {n}", "due_on": "2030-01-01"}
                headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": f"k{n}"}
                while self._call(client, "POST", "/v1/commitments", json=body,
                                 headers=headers).status != 201:
                    time.sleep(0.1)  # sooner than Retry-After: the test times the recovery

    def _read(self, path: str) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self.stopping.is_set():
                self._call(client, "GET", path)
                time.sleep(0.05)

    def first(self, after: float, path: str, status: int, position: int = 0) -> Call | None:
        """The first call to `path` started after `after` that answered `status` (and a
        position at least `position`)."""
        calls = [c for c in self.calls if c.path == path and c.started >= after
                 and c.status == status and c.position >= position]
        return min(calls, key=lambda c: c.started + c.took, default=None)


@pytest.mark.parametrize("outage", [10, pytest.param(60, marks=pytest.mark.soak)])
def test_postgres_down_under_load_gives_fast_503s_and_everything_recovers_by_itself(
        crashable_postgres, outage):
    url = crashable_postgres.create_database(f"outage_{outage}") + \
        f"?connect_timeout={CONNECT_TIMEOUT}"
    ledger = Ledger(url)
    setup_ccm(ledger)
    ledger.close()
    token = TokenStore(url).create("desk", ["record"])
    with serving(url, poll_interval="0.1", write_rate="0") as server:
        wait_until_projected(server.base)  # readers expect the set-up party, HRV, projected
        with Load(server.base, token, writers=4, readers=4) as load:
            time.sleep(2)  # load before the outage
            crashable_postgres.halt()  # pg_ctl stop -m immediate: a crash, as far as clients know
            down = time.monotonic()
            time.sleep(outage)
            up = time.monotonic()
            crashable_postgres.resume()
            resumed = time.monotonic()
            deadline = resumed + 120
            while not ((written := load.first(resumed, "/v1/commitments", 201)) and (
                    caught_up := load.first(resumed, "/-/ready", 200, written.position))):
                assert time.monotonic() < deadline, "not recovered 120 s after the outage"
                time.sleep(0.2)
    during = [c for c in load.calls if down < c.started and c.started + c.took < up]
    assert {c.path for c in during} == {"/v1/commitments", *READS}  # /-/ready among them
    assert all(c.status == 503 for c in during)
    for call in load.calls:
        assert call.status in (200, 201, 503), call
        assert call.took < ANSWERED_WITHIN, call
        if call.status == 503:
            assert call.content_type == "application/problem+json" and call.retry_after, call
    assert b'"status":500' not in server.stderr and b"Traceback" not in server.stderr
    # every command the writers were told was recorded is in the log, once
    recorded = [event for call in load.calls for event in call.events]
    assert set(recorded) <= set(event_ids(url))
    content = log_content(url)
    assert_versions_are_gapless(content)
    pledges = [entity for kind, entity, *_ in content if kind == "CommitmentPledged"]
    assert len(pledges) == len(set(pledges)) == len(recorded)
    assert caught_up_digest(url) == rebuilt_digest(url)
    print(f"outage {outage} s; answers within {max(c.took for c in during):.1f} s during it; "
          f"after it: first write recorded in "
          f"{written.started + written.took - resumed:.1f} s, projector caught up with it in "
          f"{caught_up.started + caught_up.took - resumed:.1f} s ({up - down:.1f} s down, "
          f"PostgreSQL restarted in {resumed - up:.1f} s)")



def test_the_servers_token_checks_fail_at_once_while_the_store_is_down_and_not_after(
        crashable_postgres):
    """The server's token store keeps its connections: one that outlived a restart of the
    store is dropped, not used for a failed check; while the store is down a check fails at
    once (a pool would wait out its timeout), and the first check after it is back succeeds."""
    url = crashable_postgres.create_database("token_checks")
    Ledger(url).close()
    store = TokenStore(url, kept=True)
    try:
        token = store.create("desk", ["record"])
        assert store.authenticate(token).name == "desk"  # its connection is kept
        crashable_postgres.halt()
        crashable_postgres.resume()
        assert store.authenticate(token).name == "desk"  # the kept one broke: a new one
        crashable_postgres.halt()
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            store.authenticate(token)
        assert time.monotonic() - started < CONNECT_TIMEOUT + 1
        crashable_postgres.resume()
        assert store.authenticate(token).name == "desk"
    finally:
        store.close()
