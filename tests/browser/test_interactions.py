"""What a reader does with the pages: filters the change log through its form, subscribes to a
party from its page, and reads the API reference on a server without internet."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import feedparser
import httpx

QUERY = {"party": "HRV", "kind": "reports"}
#: each row's recorded time (to the second) and the entity it links to
ROWS = ("trs => trs.map(tr => [tr.querySelector('time')?.getAttribute('datetime'),"
        " tr.querySelector('td:last-child a')?.getAttribute('href')])")


def subscribe_box(page):
    return page.get_by_role("complementary", name=re.compile("Subscribe"))


def test_filtering_the_change_log_through_its_form_shows_the_rows_of_the_same_api_query(
        page, found, server):
    page.goto("/changes")
    page.get_by_label("Party").select_option(QUERY["party"])
    page.get_by_label("Kind").select_option(QUERY["kind"])
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"/changes\?"))

    assert {k: v for k, v in parse_qsl(urlsplit(page.url).query) if v} == QUERY
    api = httpx.get(f"{server.base}/v1/changes", params={**QUERY, "limit": 1000}).json()["changes"]
    newest_first = api[::-1]
    assert newest_first, "the demo data has no Croatian report"
    shown = page.locator("table.changes tbody tr").evaluate_all(ROWS)
    assert [[when[:19], entity] for when, entity in shown] == [
        [row["recorded_at"][:19], "/" + row["entity"]] for row in newest_first]

    feeds = subscribe_box(page).locator("a[type]").evaluate_all("els => els.map(e => e.href)")
    assert len(feeds) == 3 and all(dict(parse_qsl(urlsplit(f).query)) == QUERY for f in feeds)
    atom = feedparser.parse(httpx.get(next(f for f in feeds if ".atom" in f)).content)
    assert atom.bozo == 0
    assert [entry.id for entry in atom.entries] == [
        f"tag:commitment-ledger,2026:event/{row['event_id']}" for row in newest_first]
    assert found.errors == [] and found.blocked == []


def test_a_reader_subscribes_to_a_party_from_its_page_and_the_feed_leads_back_to_pages(
        page, found):
    page.goto("/parties/HRV")
    with page.expect_response(re.compile(r"/feeds/")) as answered:
        subscribe_box(page).get_by_role("link", name="Atom").click()
    feed = feedparser.parse(answered.value.body())

    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.entries, "Croatia's feed is empty"
    assert next(link.href for link in feed.feed.links if link.rel == "self") == page.url
    assert all("HRV" in entry.title + entry.get("summary", "") for entry in feed.entries)
    entry_page = page.goto(feed.entries[0].link)
    assert entry_page.status == 200 and entry_page.headers["content-type"].startswith("text/html")
    assert found.errors == [] and found.blocked == []


def test_the_progress_matrix_is_drawn_and_readable_as_a_table_matching_the_api(page, found, server):
    page.goto("/instruments/VAP")
    drawn = page.locator("main svg").filter(has=page.locator("title", has_text="progress"))
    assert drawn.count() == 1, "no SVG progress matrix titled as such"
    page.get_by_text("The matrix as a table").click()
    rows = page.locator("main details table tbody tr")

    matrix = httpx.get(f"{server.base}/v1/matrix/VAP").json()["parties"]
    assert rows.count() == len(matrix)
    croatia = rows.filter(has_text="Croatia (HRV)").inner_text()
    assert all(f"#{action} {state}" in croatia for action, state in matrix["HRV"].items())
    assert found.errors == [] and found.blocked == []
