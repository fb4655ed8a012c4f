"""Pages as a reader meets them, on each store: what was recorded shows on the party's page and
the entry's own page with its history, escaped; every page has a JSON twin saying the same;
HTML carries its security headers; forms and errors behave for a browser."""

from __future__ import annotations

import re

from lxml import html

from tests.factories import random_ref, run, setup_ccm

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def _pledge(ledger, party: str = "HRV", text: str = HOSTILE, due_on: str = "2012-06-30") -> str:
    ref = random_ref("pledge")
    run(ledger, "pledge_commitment", id=ref, party=party, provisions=["CCM:3", "VAP:14"],
        text=text, due_on=due_on)
    return ref


def _fact(response, label: str) -> str:
    """The value beside `label` in the page's list of facts."""
    document = html.fromstring(response.content)
    return document.xpath(f'//dl[@class="facts"]/dt[.="{label}"]/following-sibling::dd[1]')[0] \
        .text_content().strip()


def _text(response) -> str:
    return " ".join(html.fromstring(response.content).text_content().split())


def test_a_pledge_shows_on_its_party_page_and_its_own_page_escaped(ledger, api):
    setup_ccm(ledger)
    ref = _pledge(ledger)
    run(ledger, "report_progress", commitment=ref, status="in_progress",
        summary="A destruction plan is in development")
    api.settle()

    party = api.client.get("/parties/HRV")
    assert party.status_code == 200
    assert party.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in party.text and "&lt;script&gt;alert" in party.text
    assert f'href="/commitments/{ref}"' in party.text
    assert "Croatia (HRV)" in _text(party)

    page = api.client.get(f"/commitments/{ref}")
    assert page.status_code == 200
    words = _text(page)
    assert "Pledge of Croatia (HRV)" in words
    assert "History (2 events, oldest first)" in words
    assert "A destruction plan is in development" in words
    assert "<script>alert" not in page.text
    # the readable diff: the status before and after, never a JSON array
    assert re.search(r"<del>pledged</del>.*<ins>in progress</ins>", page.text, re.S)
    assert '["pledged"' not in page.text


def test_every_page_has_a_json_twin_saying_the_same(ledger, api):
    setup_ccm(ledger)
    ref = _pledge(ledger, text="Destroy the stockpile")
    api.settle()
    twin = api.client.get(f"/commitments/{ref}.json")
    assert twin.headers["content-type"] == "application/json"
    assert twin.json()["entity"] == api.client.get(f"/v1/commitments/{ref}").json()
    assert [row["event_id"] for row in twin.json()["history"]] == [
        row["event_id"] for row in api.client.get(f"/v1/commitments/{ref}/history").json()]
    party = api.client.get("/parties/HRV.json").json()
    assert [c["id"] for c in party["commitments"]] == [ref]
    home = api.client.get("/index.json").json()
    assert home["latest"][0]["entity"] == f"commitments/{ref}"
    log = api.client.get("/changes.json?party=HRV").json()
    assert [r["position"] for r in log["changes"]] == sorted(
        (r["position"] for r in api.client.get("/v1/changes?party=HRV").json()["changes"]),
        reverse=True)
    for path in ("/", "/changes", "/parties", "/instruments", "/instruments/VAP", "/feeds",
                 "/audit"):
        page = api.client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        document = html.fromstring(page.content)
        assert document.find(".//h1") is not None, path
        twin_link = document.xpath('//link[@rel="alternate"][@type="application/json"]/@href')
        assert twin_link and api.client.get(twin_link[0]).status_code == 200, path
        feeds = document.xpath('//link[@rel="alternate"][@type="application/atom+xml"]/@href')
        assert feeds and api.client.get(feeds[0]).status_code == 200, path


def test_the_change_log_page_filters_and_pages_newest_first(ledger, api):
    setup_ccm(ledger)
    refs = [_pledge(ledger, text=f"Pledge number {n}") for n in range(55)]
    api.settle()
    first = html.fromstring(api.client.get("/changes?kind=CommitmentPledged").content)
    rows = first.xpath('//table[@class="changes"]/tbody/tr')
    assert len(rows) == 50
    assert "Pledge number 54" in rows[0].text_content()
    older = first.xpath('//a[@rel="next"]/@href')
    assert older and "kind=CommitmentPledged" in older[0]
    rest = html.fromstring(api.client.get(older[0]).content)
    assert len(rest.xpath('//table[@class="changes"]/tbody/tr')) == 5
    assert not rest.xpath('//a[@rel="next"]')
    # the query's feed and downloads carry exactly the same filter
    links = first.xpath('//p[@class="downloads"]/a/@href')
    assert "/feeds/changes.atom?kind=CommitmentPledged" in links
    assert "/v1/changes.csv?kind=CommitmentPledged" in links
    assert len(refs) == 55


def test_an_entry_page_shows_what_was_known_at_an_earlier_position(ledger, api):
    setup_ccm(ledger)
    ref = _pledge(ledger, text="Destroy the stockpile")
    api.settle()
    before = api.client.get(f"/v1/commitments/{ref}/history").json()[0]["position"]
    run(ledger, "report_progress", commitment=ref, status="stalled", summary="No funds")
    api.settle()
    now = api.client.get(f"/commitments/{ref}")
    then = api.client.get(f"/commitments/{ref}?at_position={before}")
    assert _fact(now, "Status") == "stalled"
    assert _fact(then, "Status") == "pledged" and "State at that time" in _text(then)
    assert f"Shown as the ledger knew it at log position {before}." in _text(then)


def test_html_carries_security_headers(ledger, api):
    setup_ccm(ledger)
    api.settle()
    page = api.client.get("/parties/HRV")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "content-security-policy" not in api.client.get("/parties/HRV.json").headers
    css = api.client.get("/-/static/ledger.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_a_form_with_empty_fields_leads_to_the_query_without_them(api):
    response = api.client.get("/changes?party=&kind=reports&q=", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/changes?kind=reports"


def test_a_browser_gets_errors_as_pages_and_a_program_as_problems(api):
    page = api.client.get("/parties/XXX", headers=BROWSER)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "parties/XXX is not in the ledger" in _text(page)
    problem = api.client.get("/parties/XXX")
    assert problem.status_code == 404
    assert problem.headers["content-type"] == "application/problem+json"
    invalid = api.client.get("/changes?kind=<b>", headers=BROWSER)
    assert invalid.status_code == 422 and "<b>" not in invalid.text
    assert "kind" in _text(invalid)
