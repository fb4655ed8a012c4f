"""The nginx cache of deploy/nginx/ledger.conf in front of a real `ledger serve` on the demo data:
hits with the ledger's bytes and ETag, 304s answered by nginx, new events visible within max-age,
revalidation after expiry, immutable archive pages; never a cached write or authenticated answer.

Every test gets its own nginx with an empty cache (deploy/nginx/ledger.conf as it is, rendered
by benchmarks.feeds.render_nginx into tmp_path) in front of a real ledger on a copy of one demo
store with LEDGER_FEED_MAX_AGE=2: one ledger shared by the tests that only read, one of its own
for each test that records events or stops it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from api.tokens import TokenStore
from benchmarks.feeds import Nginx, nginx_binary, running_nginx
from projections.runner import Projector
from tests.servers import Served, free_port, serving

from tests.conftest import require
MAX_AGE = 2
#: nginx keeps expiry in whole seconds: an entry stored at second N with max-age 2 is stale from
#: second N+3 on, so waiting this long after storing it always finds it expired
EXPIRED_AFTER = MAX_AGE + 1.5
FEED = "/feeds/changes.atom"
PUBLIC_URL = "http://feeds.ledger.test"  # where feeds say they live; bodies never depend on Host


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite store with the demo data, projected; each test serves a copy of it."""
    require(nginx_binary(), "nginx is not installed, and this test runs a real nginx with "
                            "deploy/nginx/ledger.conf: install it (`make debian-packages`, or "
                            "apt-get install nginx)")
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder}/ledger.db"
    subprocess.run([sys.executable, "-m", "api.cli", "demo"], check=True, capture_output=True,
                   env={**os.environ, "LEDGER_DATABASE_URL": url}, timeout=300)
    with Projector(url) as projector:
        projector.catch_up()
    return folder


@dataclass
class Stack:
    url: str  # the store
    app: Served  # the ledger, direct
    nginx: Nginx

    def get(self, path: str, **headers: str) -> httpx.Response:
        """GET through nginx, with no Accept-Encoding unless given (bytes compare as sent)."""
        return httpx.get(self.nginx.base + path, headers={"Accept-Encoding": "identity",
                                                          **headers}, timeout=30)

    def direct(self, path: str) -> httpx.Response:
        return httpx.get(self.app.base + path, timeout=30)

    def settle(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            ready = self.direct("/-/ready").json()
            if ready["projected_position"] >= ready["log_position"]:
                return
            assert time.monotonic() < deadline, ready
            time.sleep(0.05)


@contextmanager
def ledger_on(demo_store: Path, folder: Path) -> Iterator[tuple[str, Served]]:
    """`ledger serve` on a copy of the demo store in `folder`; stopped at the end."""
    folder.mkdir()
    for file in demo_store.glob("ledger.db*"):
        shutil.copy2(file, folder / file.name)
    url = f"sqlite:///{folder}/ledger.db"
    with serving(url, feed_max_age=str(MAX_AGE), poll_interval="0.1",
                 public_url=PUBLIC_URL) as app:  # stops the ledger in a finally block
        yield url, app


@contextmanager
def stack_on(url: str, app: Served, folder: Path) -> Iterator[Stack]:
    """A new nginx, with an empty cache in `folder`, in front of the ledger at `app`."""
    try:
        with running_nginx(folder, free_port(), int(app.base.rsplit(":", 1)[1])) as nginx:
            stack = Stack(url, app, nginx)
            stack.settle()
            yield stack  # running_nginx stops nginx in a finally block
    finally:  # shown when a test fails; nginx has flushed its logs on stopping
        for name in ("access.log", "error.log"):
            log = folder / name
            print(f"nginx {name}:\n" + (log.read_text() if log.exists() else "(none)"))


@pytest.fixture(scope="module")
def shared_ledger(demo_store: Path, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[tuple[str, Served]]:
    """One ledger for the tests that only read (it never changes while they run)."""
    with ledger_on(demo_store, tmp_path_factory.mktemp("shared") / "store") as ledger:
        yield ledger


@pytest.fixture
def stack(shared_ledger: tuple[str, Served], tmp_path: Path) -> Iterator[Stack]:
    """The shared ledger behind a new nginx with an empty cache: for tests that only read."""
    with stack_on(*shared_ledger, tmp_path / "nginx") as stack:
        yield stack


@pytest.fixture
def own_stack(demo_store: Path, tmp_path: Path) -> Iterator[Stack]:
    """A ledger of its own behind a new nginx: for tests that record events or stop the ledger."""
    with ledger_on(demo_store, tmp_path / "store") as ledger, \
            stack_on(*ledger, tmp_path / "nginx") as stack:
        yield stack


def status(response: httpx.Response) -> str | None:
    return response.headers.get("x-cache-status")


def test_a_feed_fetched_twice_through_nginx_is_a_miss_then_a_hit_with_the_ledgers_bytes_and_etag(
        stack):
    direct = stack.direct(FEED)
    first, second = stack.get(FEED), stack.get(FEED)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (status(first), status(second)) == ("MISS", "HIT")
    assert first.content == second.content == direct.content
    assert first.headers["etag"] == second.headers["etag"] == direct.headers["etag"]
    assert second.headers["last-modified"] == direct.headers["last-modified"]
    assert second.headers["cache-control"] == f"public, max-age={MAX_AGE}"
    assert second.headers["content-type"] == "application/atom+xml; charset=utf-8"
    head = httpx.head(stack.nginx.base + FEED)
    assert status(head) == "HIT" and head.content == b""
    assert head.headers["etag"] == direct.headers["etag"]


def test_a_conditional_get_through_nginx_with_the_etag_gets_304_from_the_cache(stack):
    cached = stack.get(FEED)
    etag, modified = cached.headers["etag"], cached.headers["last-modified"]
    for headers in ({"If-None-Match": etag}, {"If-None-Match": f'"other", W/{etag}'},
                    {"If-Modified-Since": modified}):
        answer = stack.get(FEED, **headers)
        assert answer.status_code == 304, headers
        assert status(answer) == "HIT" and answer.content == b""
        assert answer.headers["etag"] == etag
    earlier = format_datetime(datetime.now(timezone.utc) - timedelta(days=3650), usegmt=True)
    for headers in ({"If-None-Match": '"something-else"'}, {"If-Modified-Since": earlier}):
        answer = stack.get(FEED, **headers)
        assert answer.status_code == 200 and status(answer) == "HIT"
        assert answer.content == cached.content


def test_an_event_recorded_through_the_api_appears_in_the_feed_through_nginx_within_max_age(
        own_stack):
    stored_at = time.monotonic()
    before = own_stack.get(FEED)
    assert status(own_stack.get(FEED)) == "HIT"  # the old document is in the cache
    token = TokenStore(own_stack.url).create("desk", ["record"])
    written = httpx.post(f"{own_stack.app.base}/v1/parties",  # direct to the ledger
                         json={"code": "TLS", "name": "Timor-Leste", "kind": "state"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert written.status_code == 201, written.text
    # the writer reading back its write is never given the cached copy, which is older
    asked = own_stack.get(FEED, **{"Ledger-Min-Position": written.headers["ledger-position"]})
    assert status(asked) == "BYPASS" and b"Timor-Leste" in asked.content
    own_stack.settle()  # the ledger's own feed has it
    # nothing asks nginx meanwhile; once the stored copy is past max-age, the next reader gets
    # the new document (waiting at least that long, not racing a deadline)
    time.sleep(max(0.0, stored_at + EXPIRED_AFTER - time.monotonic()))
    response = own_stack.get(FEED)
    assert response.status_code == 200 and status(response) in ("EXPIRED", "MISS")
    for event in written.json()["events"]:
        assert f"tag:commitment-ledger,2026:event/{event}".encode() in response.content
    assert response.headers["etag"] != before.headers["etag"]
    assert response.content == own_stack.direct(FEED).content
    assert b"Timor-Leste" in response.content
    # the next readers get the new document from the cache, never the file it replaced
    hit = own_stack.get(FEED)
    assert status(hit) == "HIT" and hit.content == response.content


def test_an_expired_unchanged_feed_is_revalidated_with_the_ledger_and_keeps_its_bytes(stack):
    first = stack.get(FEED)
    assert status(first) == "MISS"
    time.sleep(EXPIRED_AFTER)
    revalidated = stack.get(FEED)
    assert status(revalidated) == "REVALIDATED"  # the ledger answered nginx's If-None-Match: 304
    assert revalidated.status_code == 200
    assert revalidated.content == first.content
    assert revalidated.headers["etag"] == first.headers["etag"]
    again = stack.get(FEED)
    assert status(again) == "HIT" and again.content == first.content
    # the ledger was asked with the stored validators and answered 304 (nginx writes its access
    # log out every second: wait for the line rather than for a second)
    line = f'"GET {FEED} HTTP/1.1" 200 {len(first.content)} cache=REVALIDATED upstream=304'
    log = stack.nginx.directory / "access.log"
    deadline = time.monotonic() + 30
    while not (log.exists() and line in log.read_text()):
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no access log"
        time.sleep(0.1)


@pytest.mark.parametrize("path", ["/feeds/changes/archive/1.atom",
                                  "/feeds/instruments/CCM/archive/1.rss",
                                  "/feeds/kinds/obligations/archive/1.json"])
def test_full_archive_pages_through_nginx_are_immutable_and_cached(stack, path):
    direct = stack.direct(path)
    first, second = stack.get(path), stack.get(path)
    assert first.status_code == second.status_code == 200
    assert (status(first), status(second)) == ("MISS", "HIT")
    for response in (first, second):
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.content == direct.content
        assert response.headers["etag"] == direct.headers["etag"]


def test_the_archive_page_still_being_filled_is_cached_only_for_max_age(stack):
    path = "/feeds/parties/HRV/archive/1.rss"  # HRV has fewer entries than a page
    first = stack.get(path)
    assert first.status_code == 200 and status(first) == "MISS"
    assert first.headers["cache-control"] == f"public, max-age={MAX_AGE}"
    assert status(stack.get(path)) == "HIT"
    time.sleep(EXPIRED_AFTER)
    assert status(stack.get(path)) == "REVALIDATED"


def test_a_feed_requested_with_authorization_is_passed_through_and_never_stored(stack):
    path = "/feeds/parties/HRV.atom"
    authenticated = stack.get(path, Authorization="Bearer anything")
    assert authenticated.status_code == 200 and status(authenticated) == "BYPASS"
    # nothing was stored: the next anonymous reader is a miss, then a hit
    assert [status(stack.get(path)) for _ in range(2)] == ["MISS", "HIT"]
    assert status(stack.get(path, Authorization="Bearer anything")) == "BYPASS"


def test_writes_and_api_reads_go_through_nginx_to_the_ledger_and_are_never_cached(own_stack):
    token = TokenStore(own_stack.url).create("desk", ["record"])
    written = httpx.post(f"{own_stack.nginx.base}/v1/parties",
                         json={"code": "MNG", "name": "Mongolia", "kind": "state"},
                         headers={"Authorization": f"Bearer {token}", "X-Request-ID": "e2e-1"})
    assert written.status_code == 201, written.text
    assert "x-cache-status" not in written.headers
    assert written.headers["x-request-id"] == "e2e-1"
    assert httpx.post(f"{own_stack.nginx.base}/v1/parties", json={}).status_code == 401
    own_stack.settle()
    for _ in range(2):
        read = httpx.get(f"{own_stack.nginx.base}/v1/parties/MNG")
        assert read.status_code == 200 and "x-cache-status" not in read.headers
    # a cached feed never replays the id of the request that filled the entry
    for n in range(2):
        feed = own_stack.get(FEED, **{"X-Request-ID": f"feed-{n}"})
        assert status(feed) == ("MISS", "HIT")[n] and "x-request-id" not in feed.headers


def test_concurrent_readers_of_a_cold_feed_cause_one_request_to_the_ledger(stack):
    path = "/feeds/kinds/allegations.atom"
    barrier, statuses = threading.Barrier(8), []

    def read() -> None:
        barrier.wait()
        statuses.append(status(stack.get(path)))

    readers = [threading.Thread(target=read) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=30)
    assert sorted(statuses) == ["HIT"] * 7 + ["MISS"], statuses  # proxy_cache_lock


def test_an_expired_feed_is_served_stale_while_the_ledger_is_down(own_stack):
    cached = own_stack.get(FEED)
    assert status(cached) == "MISS"
    own_stack.app.process.terminate()
    own_stack.app.process.wait(timeout=15)
    time.sleep(EXPIRED_AFTER)
    stale = own_stack.get(FEED)
    assert stale.status_code == 200 and status(stale) == "STALE"
    assert stale.content == cached.content
    # what was never cached is an error, not a guess
    assert own_stack.get("/feeds/parties/HRV.atom").status_code == 502


def test_tiles_are_served_from_the_cache_like_archive_pages(stack):
    """C2SP tlog-tiles: immutable tiles and entry bundles are hits after the first reader."""
    for path in ("/tile/0/001", "/tile/1/000.p/4", "/tile/entries/001"):
        direct = stack.direct(path)
        first, second = stack.get(path), stack.get(path)
        assert (status(first), status(second)) == ("MISS", "HIT"), path
        assert first.content == second.content == direct.content
        assert second.headers["cache-control"] == "public, max-age=31536000, immutable"
    beyond = [stack.get("/tile/0/x001/000") for _ in range(2)]
    assert [(r.status_code, status(r)) for r in beyond] == [(404, "MISS")] * 2  # never stored
