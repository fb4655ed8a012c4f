"""Feeds as watchdogs use them: every scope in every format parses strictly and in a real feed
parser, the BRIEF section 7 checklist holds over HTTP, archives never change, conditional GET,
links lead to the HTML pages on the host the reader used, a feed of any change-log query holds
exactly that query's rows, and a watchdog's party feed shows exactly what was recorded about that
party."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import feedparser
import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from api.main import create_app
from api.settings import Settings
from api.tokens import TokenStore
from feeds.model import tag
from tests.servers import serving

BASE = "http://testserver"
ATOM = "{http://www.w3.org/2005/Atom}"
SCOPES = ["changes", "parties/SSD", "instruments/CCM", "actions/VAP:14",
          "commitments/ccm-ratify-2011-PER", "allegations/apmbc-cc-2019-SSD", "kinds/allegations",
          "kinds/ReportSubmitted", "kinds/DeadlineLapsed"]


def client_for(url: str, **settings) -> TestClient:
    config = {"database_url": url, "public_url": BASE, "tick_interval": 0,
              "checkpoint_interval": 0, "poll_interval": 0.05, "feed_page_size": 50, **settings}
    return TestClient(create_app(Settings(**config)))


@pytest.fixture(scope="module")
def demo(demo_url):
    with client_for(demo_url, project_in_process=False) as client:
        yield client


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_every_scope_in_every_format_parses_strictly_and_in_feedparser(demo, scope, fmt):
    response = demo.get(f"/feeds/{scope}.{fmt}")
    assert response.status_code == 200, response.text
    expected = {"atom": "application/atom+xml; charset=utf-8",
                "rss": "application/rss+xml; charset=utf-8", "json": "application/feed+json"}
    assert response.headers["content-type"] == expected[fmt]
    if fmt == "json":
        document = json.loads(response.content)
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert document["feed_url"] == f"{BASE}/feeds/{scope}.json"
        return
    etree.fromstring(response.content, etree.XMLParser(recover=False))
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")


def test_rel_self_equals_the_fetched_url(demo):
    root = etree.fromstring(demo.get("/feeds/parties/SSD.atom").content)
    (self_link,) = [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link.get("href") == f"{BASE}/feeds/parties/SSD.atom"


def test_entry_ids_are_tag_uris_from_the_event_id_and_dates_carry_an_offset(demo):
    root = etree.fromstring(demo.get("/feeds/allegations/apmbc-cc-2019-SSD.atom").content)
    history = demo.get("/v1/allegations/apmbc-cc-2019-SSD/history").json()
    ids = [entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")]
    assert ids == [f"tag:commitment-ledger,2026:event/{row['event_id']}" for row in reversed(history)]
    for entry in root.findall(f"{ATOM}entry"):
        assert datetime.fromisoformat(entry.findtext(f"{ATOM}updated")).utcoffset() is not None


def test_rss_guids_are_not_permalinks_and_the_channel_link_is_the_html_page(demo):
    channel = etree.fromstring(demo.get("/feeds/parties/SSD.rss").content).find("channel")
    assert channel.findtext("link") == f"{BASE}/parties/SSD"
    assert {item.find("guid").get("isPermaLink") for item in channel.findall("item")} == {"false"}


def test_archive_pages_are_immutable_and_linked_both_ways(demo_url, demo):
    first = demo.get("/feeds/changes/archive/1.atom")
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    root = etree.fromstring(first.content)
    rels = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert rels["current"] == f"{BASE}/feeds/changes.atom"
    assert rels["next-archive"] == f"{BASE}/feeds/changes/archive/2.atom"
    assert "prev-archive" not in rels
    assert root.find("{http://purl.org/syndication/history/1.0}archive") is not None
    current = etree.fromstring(demo.get("/feeds/changes.atom").content)
    rels = {link.get("rel"): link.get("href") for link in current.findall(f"{ATOM}link")}
    assert rels["prev-archive"].startswith(f"{BASE}/feeds/changes/archive/")
    assert demo.get("/feeds/changes.atom").headers["cache-control"] == "public, max-age=60"
    assert demo.get("/feeds/changes/archive/999999.atom").status_code == 404


def test_an_archive_page_is_byte_identical_when_fetched_again_and_after_a_rebuild(demo_url):
    with client_for(demo_url, project_in_process=False) as client:
        before = client.get("/feeds/parties/HRV/archive/1.rss")
        again = client.get("/feeds/parties/HRV/archive/1.rss")
    subprocess.run([sys.executable, "-m", "api.cli", "rebuild"], check=True, capture_output=True,
                   env={"LEDGER_DATABASE_URL": demo_url, "PATH": ""})
    with client_for(demo_url, project_in_process=False) as client:
        rebuilt = client.get("/feeds/parties/HRV/archive/1.rss")
        conditional = client.get("/feeds/parties/HRV/archive/1.rss",
                                 headers={"If-None-Match": before.headers["etag"]})
    assert before.status_code == 200
    assert before.content == again.content == rebuilt.content
    assert before.headers["etag"] == rebuilt.headers["etag"]
    assert conditional.status_code == 304 and conditional.content == b""


def test_conditional_get_and_head(demo):
    response = demo.get("/feeds/kinds/allegations.atom")
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert demo.get("/feeds/kinds/allegations.atom", headers={"If-None-Match": etag}).status_code == 304
    assert demo.get("/feeds/kinds/allegations.atom",
                    headers={"If-Modified-Since": modified}).status_code == 304
    earlier = format_datetime(datetime.now(timezone.utc) - timedelta(days=3650), usegmt=True)
    assert demo.get("/feeds/kinds/allegations.atom",
                    headers={"If-Modified-Since": earlier}).status_code == 200
    head = demo.head("/feeds/kinds/allegations.atom")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag


def test_a_current_feed_is_not_rebuilt_while_nothing_changes(demo):
    documents = demo.app.state.reads.primary.feeds
    builds = []
    original = documents._build
    documents._build = lambda *args: builds.append(args) or original(*args)
    try:
        for _ in range(5):
            assert demo.get("/feeds/instruments/CCM.json").status_code == 200
    finally:
        documents._build = original
    assert len(builds) <= 1


def test_unknown_scopes_are_404_problems(demo):
    for path in ("/feeds/parties/XYZ.atom", "/feeds/kinds/Nothing.rss",
                 "/feeds/actions/VAP:999.json", "/feeds/commitments/nope.atom"):
        response = demo.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
    assert demo.get("/feeds/changes.xml").status_code == 422


def wait_for(predicate, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


class Hub(BaseHTTPRequestHandler):
    pings: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        Hub.pings.append(parse_qs(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_watchdog_sees_exactly_the_new_pledge_and_allegation_and_the_hub_is_pinged(database_url):
    hub = HTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    hub_url = f"http://127.0.0.1:{hub.server_port}/"
    token = TokenStore(database_url).create("desk", ["record"])
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with client_for(database_url, websub_hub=hub_url) as client:
            def post(path: str, body: dict) -> None:
                assert client.post(path, json=body, headers=auth).status_code == 201

            post("/v1/instruments", {"code": "CCM", "title": "Convention on Cluster Munitions",
                                     "kind": "treaty"})
            post("/v1/instruments/CCM/provisions", {"number": "3", "kind": "article",
                                                    "title": "Stockpile destruction"})
            post("/v1/parties", {"code": "HRV", "name": "Croatia", "kind": "state"})
            post("/v1/parties", {"code": "LAO", "name": "Lao PDR", "kind": "state"})
            ready = lambda: (lambda r: r["projected_position"] >= r["log_position"])(  # noqa: E731
                client.get("/-/ready").json())
            wait_for(ready)
            before = feedparser.parse(client.get("/feeds/parties/HRV.atom").content)
            links = [link["href"] for link in before.feed.links if link["rel"] == "hub"]
            assert links == [hub_url]
            old_ids = [entry.id for entry in before.entries]

            post("/v1/commitments", {"id": "hrv-stock", "party": "HRV", "provisions": ["CCM:3"],
                                     "text": "Destroy the remaining stockpile",
                                     "due_on": "2015-08-01"})
            post("/v1/parties", {"code": "PER", "name": "Peru", "kind": "state"})  # not HRV's
            post("/v1/allegations", {"id": "hrv-use", "against": "HRV", "provision": "CCM:3",
                                     "filed_by": "CMC", "summary": "Alleged transfer"})
            wait_for(ready)
            after = feedparser.parse(client.get("/feeds/parties/HRV.atom").content)
        new = [entry for entry in after.entries if entry.id not in old_ids]
        assert sorted(term.term for entry in new for term in entry.tags
                      if term.scheme == tag("kind") and term.term[0].isupper()) == [
            "AllegationFiled", "CommitmentPledged"]
        assert [entry.id for entry in after.entries if entry.id in old_ids] == old_ids
        wait_for(lambda: any(f"{BASE}/feeds/parties/HRV.atom" in ping.get("hub.url", [])
                             for ping in Hub.pings))
        assert all(ping["hub.mode"] == ["publish"] for ping in Hub.pings)
    finally:
        hub.shutdown()


def links(root: etree._Element) -> dict[str, str]:
    return {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}


def test_without_a_public_url_links_use_the_host_and_port_the_server_listens_on(demo_url):
    with serving(demo_url) as served:
        url = f"{served.base}/feeds/changes.atom"
        root = etree.fromstring(httpx.get(url, timeout=30).content)
        query_url = f"{served.base}/feeds/changes.rss?party=HRV&kind=reports"
        channel = etree.fromstring(httpx.get(query_url, timeout=30).content).find("channel")
    assert links(root)["self"] == url
    assert links(root)["alternate"] == f"{served.base}/changes"
    assert links(root)["prev-archive"].startswith(f"{served.base}/feeds/changes/archive/")
    entry_links = root.xpath("a:entry/a:link/@href", namespaces={"a": ATOM[1:-1]})
    assert entry_links and all(href.startswith(f"{served.base}/") for href in entry_links)
    (rss_self,) = channel.findall(f"{ATOM}link[@rel='self']")
    assert rss_self.get("href") == query_url
    assert channel.findtext("link") == f"{served.base}/changes?party=HRV&kind=reports"


def test_a_configured_public_url_wins_and_unset_each_host_gets_its_own_links(demo_url):
    with client_for(demo_url, project_in_process=False, public_url="https://ledger.example.org/") as client:
        root = etree.fromstring(client.get("/feeds/parties/HRV.atom").content)
    assert links(root)["self"] == "https://ledger.example.org/feeds/parties/HRV.atom"
    with client_for(demo_url, project_in_process=False, public_url=None) as client:
        for base in ("http://reader.test:8123", "https://other.test"):
            root = etree.fromstring(client.get(f"{base}/feeds/parties/HRV.atom").content)
            assert (links(root)["self"], links(root)["alternate"]) == (
                f"{base}/feeds/parties/HRV.atom", f"{base}/parties/HRV")


def test_make_run_honours_ledger_port_and_host_and_a_port_given_to_make():
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}

    def serve_line(*args: str, **variables: str) -> str:
        out = subprocess.run(["make", "-n", "run", *args], env={**env, **variables}, check=True,
                             capture_output=True, text=True).stdout
        return next(line for line in out.splitlines() if " serve " in line)

    assert serve_line().endswith("serve --host 127.0.0.1 --port 8000")
    assert serve_line(LEDGER_PORT="9123", LEDGER_HOST="0.0.0.0").endswith(
        "serve --host 0.0.0.0 --port 9123")
    assert serve_line("PORT=9000", LEDGER_PORT="9123").endswith("--port 9000")


HTML_PAGES = {
    "changes": "/changes", "parties/SSD": "/parties/SSD", "instruments/CCM": "/instruments/CCM",
    "actions/VAP:14": "/changes?action=VAP%3A14", "kinds/allegations": "/changes?kind=allegations",
    "commitments/ccm-ratify-2011-PER": "/commitments/ccm-ratify-2011-PER",
    "allegations/apmbc-cc-2019-SSD": "/allegations/apmbc-cc-2019-SSD",
}


@pytest.mark.parametrize("scope", HTML_PAGES)
def test_each_feed_links_its_html_page_in_every_format(demo, scope):
    page = BASE + HTML_PAGES[scope]
    atom_links = etree.fromstring(demo.get(f"/feeds/{scope}.atom").content).findall(f"{ATOM}link")
    assert [(link.get("href"), link.get("type")) for link in atom_links
            if link.get("rel") == "alternate"] == [(page, "text/html")]
    assert etree.fromstring(demo.get(f"/feeds/{scope}.rss").content).findtext("channel/link") == page
    assert demo.get(f"/feeds/{scope}.json").json()["home_page_url"] == page


def test_entries_link_the_html_page_of_their_entity(demo):
    page = f"{BASE}/allegations/apmbc-cc-2019-SSD"
    root = etree.fromstring(demo.get("/feeds/allegations/apmbc-cc-2019-SSD.atom").content)
    entry_links = [link.attrib for link in root.iterfind(f"{ATOM}entry/{ATOM}link")]
    assert entry_links and all(link == {"href": page, "rel": "alternate", "type": "text/html"}
                               for link in entry_links)
    channel = etree.fromstring(demo.get("/feeds/allegations/apmbc-cc-2019-SSD.rss").content)
    assert set(channel.xpath("channel/item/link/text()")) == {page}
    urls = {item["url"] for item in demo.get("/feeds/parties/SSD.json").json()["items"]}
    assert {f"{BASE}/parties/SSD", f"{BASE}/allegations/apmbc-cc-2019-SSD",
            f"{BASE}/statements/apmbc-review-2019-21-allegations-found-not-credible-SSD"} <= urls
    assert all(url.startswith(BASE + "/") and "/v1/" not in url for url in urls)


QUERIES = ["party=HRV&kind=reports", "instrument=CCM", "q=stockpile&effective_from=2011-01-01",
           "action=VAP:14", "kind=allegations&recorded_from=2000-01-01"]


@pytest.mark.parametrize("query", QUERIES)
def test_a_query_feed_holds_exactly_the_newest_rows_of_the_same_change_log_query(demo, query):
    page = demo.get(f"/v1/changes?{query}&limit=1000").json()
    rows = page["changes"]
    while page["next"]:  # instrument=CCM selects more than one page
        page = demo.get(page["next"]).json()
        rows += page["changes"]
    newest = [f"tag:commitment-ledger,2026:event/{row['event_id']}" for row in reversed(rows[-50:])]
    assert newest
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(demo.get(f"/feeds/changes.{fmt}?{query}").content)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert [entry.id for entry in parsed.entries] == newest
    items = demo.get(f"/feeds/changes.json?{query}").json()["items"]
    assert [item["id"] for item in items] == newest


def test_a_query_feed_links_itself_its_page_and_keeps_one_id_whatever_the_order(demo):
    root = etree.fromstring(demo.get("/feeds/changes.atom?kind=reports&party=HRV").content)
    assert links(root)["self"] == f"{BASE}/feeds/changes.atom?kind=reports&party=HRV"
    assert links(root)["alternate"] == f"{BASE}/changes?party=HRV&kind=reports"
    assert root.findtext(f"{ATOM}id") == tag("feeds/changes?party=HRV&kind=reports")
    again = etree.fromstring(demo.get("/feeds/changes.atom?party=HRV&kind=reports").content)
    assert again.findtext(f"{ATOM}id") == root.findtext(f"{ATOM}id")
    assert links(again)["self"] == f"{BASE}/feeds/changes.atom?party=HRV&kind=reports"
    words = etree.fromstring(demo.get("/feeds/changes.atom?q=mine%20action").content)
    assert links(words)["alternate"] == f"{BASE}/changes?q=mine%20action"


def test_a_query_feed_answers_a_conditional_get_and_pages_with_its_query(demo):
    first = demo.get("/feeds/changes.atom?instrument=CCM")
    assert first.headers["etag"] != demo.get("/feeds/changes.atom").headers["etag"]
    again = demo.get("/feeds/changes.atom?instrument=CCM", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert links(etree.fromstring(first.content))["prev-archive"].endswith(".atom?instrument=CCM")
    page = demo.get("/feeds/changes/archive/1.atom?instrument=CCM")
    assert page.headers["cache-control"] == "public, max-age=31536000, immutable"
    root = etree.fromstring(page.content)
    assert (links(root)["self"], links(root)["current"], links(root)["next-archive"]) == (
        f"{BASE}/feeds/changes/archive/1.atom?instrument=CCM",
        f"{BASE}/feeds/changes.atom?instrument=CCM",
        f"{BASE}/feeds/changes/archive/2.atom?instrument=CCM")
    oldest = demo.get("/v1/changes?instrument=CCM&limit=50").json()["changes"]
    assert [entry.id for entry in feedparser.parse(page.content).entries] == [
        f"tag:commitment-ledger,2026:event/{row['event_id']}" for row in reversed(oldest)]


@pytest.mark.parametrize("query", ["party=hrv", "effective_from=2011", "recorded_to=yesterday",
                                   "kind=no%20such"])
def test_a_query_feed_refuses_bad_filters_as_the_change_log_does(demo, query):
    feed, log = demo.get(f"/feeds/changes.rss?{query}"), demo.get(f"/v1/changes?{query}")
    assert feed.status_code == log.status_code == 422
    assert feed.headers["content-type"] == "application/problem+json"
    assert feed.json()["errors"] == log.json()["errors"]
