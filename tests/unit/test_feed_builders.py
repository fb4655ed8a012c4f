"""Feed builders: change-log rows in, Atom, RSS and JSON Feed bytes out, checked the way readers read them."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import feedparser
import pytest
from lxml import etree

from feeds.atom import build_atom
from feeds.content import entry_html
from feeds.jsonfeed import build_json_feed
from feeds.model import FeedSpec, entry_id, last_updated, tag
from feeds.rss import build_rss
from feeds.text import clean

BASE = "https://ledger.example"
NS = {
    "a": "http://www.w3.org/2005/Atom",
    "fh": "http://purl.org/syndication/history/1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")
CONTROLS = "".join(map(chr, range(0x09))) + "\x0b\x0c" + "".join(map(chr, range(0x0E, 0x20))) + "\ufffe"
EMOJI, ARABIC, HEBREW = "🇭🇷 ✅ 👩🏽‍⚖️", "تعهد كرواتيا بتدمير المخزون", "קרואטיה התחייבה להשמיד את המלאי"


def change(position: int, **overrides: Any) -> dict[str, Any]:
    """A change-log row as projections.queries.change_row returns it: a pledge by Croatia unless told."""
    row = {
        "position": position,
        "event_id": f"00000000-0000-4000-8000-{position:012d}",
        "type": "CommitmentPledged",
        "entity": f"commitments/c{position}",
        "kind": "commitments",
        "version": 1,
        "party": "HRV",
        "instrument": "CCM",
        "provisions": ["VAP:14", "VAP:21"],
        "recorded_at": f"2026-11-23T12:{position % 60:02d}:19.812227+00:00",
        "effective_on": "2011-08-20",
        "effective_from": "2011-08-20",
        "effective_to": "2011-08-20",
        "recorded_by": "demo",
        "sources": [{"title": "Final report of the 2MSP", "document": "CCM/MSP/2011/5", "paragraph": "31",
                     "url": "https://example.org/ccm/2msp.pdf"}],
        "note": None,
        "summary": "Croatia pledged to destroy its stockpile by 1 August 2013",
        "fields": {"text": "Destroy the stockpile", "due": "2013-08-01"},
        "diff": {"due": [None, "2013-08-01"], "status": [None, "pledged"]},
    }
    return {**row, **overrides}


ROWS = [
    change(301, type="PartyRegistered", entity="parties/SOM", kind="parties", party="SOM", instrument=None,
           provisions=[], summary="Somalia (SOM) registered as state", effective_on="2010-11-01/2011-08-20",
           diff={"name": [None, "Somalia"]}),
    change(305),
    change(303, type="DueDateExtended", entity="commitments/c305", summary="Croatia's deadline extended",
           diff={"due": ["2013-08-01", "2015-08-01"]}, note="Extension granted at 4MSP"),
    change(304, type="AllegationFiled", entity="allegations/a1", kind="allegations", party="SSD",
           instrument="APMBC", provisions=["APMBC:1"], summary="Alleged use of anti-personnel mines",
           recorded_by="monitor", sources=[{"title": "Landmine Monitor 2014", "document": "LM2014"}]),
]


def spec(**overrides: Any) -> FeedSpec:
    values = {
        "title": "Croatia: every change", "subtitle": "Pledges, reports and allegations concerning Croatia",
        "base_url": BASE, "self_url": f"{BASE}/feeds/parties/HRV.atom", "html_url": f"{BASE}/parties/HRV",
        "feed_id": tag("feeds/parties/HRV"), "updated": last_updated(ROWS, "2026-01-01T00:00:00+00:00"),
    }
    return FeedSpec(**{**values, **overrides})


ARCHIVE = {"is_archive": True, "current_url": f"{BASE}/feeds/parties/HRV.atom",
           "prev_archive_url": f"{BASE}/feeds/parties/HRV/1.atom",
           "next_archive_url": f"{BASE}/feeds/parties/HRV/3.atom",
           "self_url": f"{BASE}/feeds/parties/HRV/2.atom"}


def xml(document: bytes) -> etree._Element:
    """Strict parse (no recover), after checking feedparser reads the document without complaint."""
    parsed = feedparser.parse(document)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return etree.fromstring(document)


def atom(rows: list[dict[str, Any]] = ROWS, **overrides: Any) -> etree._Element:
    return xml(build_atom(spec(**overrides), rows))


def rss(rows: list[dict[str, Any]] = ROWS, **overrides: Any) -> etree._Element:
    return xml(build_rss(spec(**overrides), rows))


def json_feed(rows: list[dict[str, Any]] = ROWS, **overrides: Any) -> dict[str, Any]:
    return json.loads(build_json_feed(spec(**overrides), rows))


def entry_ids(fmt: str, rows: list[dict[str, Any]]) -> list[str]:
    if fmt == "atom":
        return atom(rows).xpath("a:entry/a:id/text()", namespaces=NS)
    if fmt == "rss":
        return rss(rows).xpath("channel/item/guid/text()")
    return [item["id"] for item in json_feed(rows)["items"]]


def texts(fmt: str, rows: list[dict[str, Any]]) -> list[str]:
    """Every entry title and content as a reader gets them back, after parsing."""
    if fmt == "json":
        return [text for item in json_feed(rows)["items"] for text in (item["title"], item["content_html"])]
    build: Callable[..., bytes] = build_atom if fmt == "atom" else build_rss
    document = build(spec(), rows)
    xml(document)
    return [text for entry in feedparser.parse(document).entries for text in (entry.title, entry.description)]


FORMATS = pytest.mark.parametrize("fmt", ["atom", "rss", "json"])


# Each format parses the way readers parse it.

def test_atom_parses_strictly_and_feedparser_reads_it_as_atom_1_0():
    document = build_atom(spec(), ROWS)
    assert etree.fromstring(document).tag == "{http://www.w3.org/2005/Atom}feed"
    parsed = feedparser.parse(document)
    assert (parsed.bozo, parsed.version, len(parsed.entries)) == (0, "atom10", 4)


def test_rss_parses_strictly_and_feedparser_reads_it_as_rss_2_0():
    document = build_rss(spec(), ROWS)
    assert etree.fromstring(document).get("version") == "2.0"
    parsed = feedparser.parse(document)
    assert (parsed.bozo, parsed.version, len(parsed.entries)) == (0, "rss20", 4)


def test_json_feed_parses_and_has_the_keys_version_1_1_requires():
    document = json_feed()
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == "Croatia: every change"
    assert document["home_page_url"] == f"{BASE}/parties/HRV"
    assert document["feed_url"] == f"{BASE}/feeds/parties/HRV.atom"
    for item in document["items"]:
        assert item["id"] and item["content_html"] and RFC3339.match(item["date_published"])
        assert item["date_modified"] == item["date_published"]


def test_json_feed_items_carry_the_ledger_extension():
    item = json_feed()["items"][0]
    assert item["_ledger"] == {
        "position": 305, "event_id": "00000000-0000-4000-8000-000000000305", "entity": "commitments/c305",
        "type": "CommitmentPledged", "recorded_at": "2026-11-23T12:05:19.812227+00:00",
        "effective_on": "2011-08-20", "sources": ROWS[1]["sources"], "diff": ROWS[1]["diff"],
    }
    assert (item["url"], item["authors"]) == (f"{BASE}/commitments/c305", [{"name": "demo"}])


# BRIEF section 7 checklist, one rule per test.

@FORMATS
def test_entry_ids_are_tag_uris_from_the_event_id(fmt):
    assert entry_ids(fmt, [ROWS[0]]) == ["tag:commitment-ledger,2026:event/00000000-0000-4000-8000-000000000301"]
    assert entry_id(ROWS[0]) == entry_ids(fmt, [ROWS[0]])[0]


@FORMATS
def test_entry_ids_are_the_same_when_built_twice_or_among_other_rows(fmt):
    alone = entry_ids(fmt, [ROWS[2]])
    assert entry_ids(fmt, [ROWS[2]]) == alone
    assert alone[0] in entry_ids(fmt, ROWS)
    assert alone[0] in entry_ids(fmt, [change(999), ROWS[2], change(1)])


def test_atom_dates_are_rfc3339_with_an_offset():
    feed = atom()
    dates = feed.xpath("a:updated/text() | a:entry/a:updated/text() | a:entry/a:published/text()", namespaces=NS)
    assert len(dates) == 1 + 2 * len(ROWS)
    assert all(RFC3339.match(date) for date in dates), dates


def test_rss_dates_are_rfc_822_with_a_numeric_offset():
    channel = rss().find("channel")
    dates = [channel.findtext("lastBuildDate"), *channel.xpath("item/pubDate/text()")]
    assert dates[:2] == ["Mon, 23 Nov 2026 12:05:19 +0000", "Mon, 23 Nov 2026 12:05:19 +0000"]


def test_rel_self_equals_the_given_self_url():
    url = f"{BASE}/feeds/parties/HRV.atom?page=current"
    (atom_self,) = atom(self_url=url).xpath("a:link[@rel='self']", namespaces=NS)
    assert (atom_self.get("href"), atom_self.get("type")) == (url, "application/atom+xml")
    (rss_self,) = rss(self_url=url).xpath("channel/a:link[@rel='self']", namespaces=NS)
    assert (rss_self.get("href"), rss_self.get("type")) == (url, "application/rss+xml")
    assert json_feed(self_url=url)["feed_url"] == url


def test_rss_guids_are_not_permalinks():
    guids = rss().xpath("channel/item/guid")
    assert len(guids) == len(ROWS)
    assert {guid.get("isPermaLink") for guid in guids} == {"false"}


def test_rss_channel_link_is_the_html_page():
    assert rss(hub_url="https://hub.example/", **ARCHIVE).findtext("channel/link") == f"{BASE}/parties/HRV"


def test_atom_feed_links_to_its_html_page():
    (alternate,) = atom().xpath("a:link[@rel='alternate']", namespaces=NS)
    assert (alternate.get("href"), alternate.get("type")) == (f"{BASE}/parties/HRV", "text/html")


def test_entry_links_keep_rel_alternate_and_type_html():
    for entry in atom().xpath("a:entry", namespaces=NS):
        (link,) = entry.xpath("a:link", namespaces=NS)
        assert (link.get("rel"), link.get("type")) == ("alternate", "text/html")
        assert link.get("href").startswith(f"{BASE}/")
    assert rss().xpath("channel/item/link/text()")[0] == f"{BASE}/commitments/c305"


@FORMATS
def test_entries_link_their_entity_page_and_checkpoints_the_audit_page(fmt):
    checkpoint = change(2, type="CheckpointIssued", entity="checkpoints/log", kind="checkpoints")
    if fmt == "atom":
        hrefs = atom([checkpoint, ROWS[0]]).xpath("a:entry/a:link/@href", namespaces=NS)
    elif fmt == "rss":
        hrefs = rss([checkpoint, ROWS[0]]).xpath("channel/item/link/text()")
    else:
        hrefs = [item["url"] for item in json_feed([checkpoint, ROWS[0]])["items"]]
    assert hrefs == [f"{BASE}/parties/SOM", f"{BASE}/audit"]


def test_feed_updated_and_last_build_date_come_from_the_input_not_the_clock():
    builders = (build_atom, build_rss, build_json_feed)
    first = [build(spec(), ROWS) for build in builders]
    time.sleep(1.05)
    assert [build(spec(), ROWS) for build in builders] == first
    assert atom().findtext("a:updated", namespaces=NS) == "2026-11-23T12:05:19.812227+00:00"
    assert rss().findtext("channel/lastBuildDate") == "Mon, 23 Nov 2026 12:05:19 +0000"


def test_the_generator_names_the_ledger_without_a_version_that_changes_on_upgrade():
    (generator,) = atom().xpath("a:generator", namespaces=NS)
    assert (generator.text, generator.attrib) == ("Commitment Ledger", {})
    assert rss().findtext("channel/generator") == "Commitment Ledger"

def test_an_empty_feed_takes_its_updated_from_the_caller():
    fixed = last_updated([], "2026-01-01T00:00:00+00:00")
    assert atom([], updated=fixed).findtext("a:updated", namespaces=NS) == "2026-01-01T00:00:00+00:00"
    assert rss([], updated=fixed).findtext("channel/lastBuildDate") == "Thu, 01 Jan 2026 00:00:00 +0000"
    assert json_feed([], updated=fixed)["items"] == []


def test_a_spec_without_a_utc_offset_is_refused():
    with pytest.raises(ValueError, match="offset"):
        spec(updated="2026-01-01T00:00:00")


def test_archive_documents_carry_fh_archive_current_and_archive_links():
    feed = atom(**ARCHIVE)
    assert len(feed.xpath("fh:archive", namespaces=NS)) == 1
    links = {link.get("rel"): link.get("href") for link in feed.xpath("a:link", namespaces=NS)}
    assert (links["current"], links["prev-archive"], links["next-archive"], links["self"]) == (
        ARCHIVE["current_url"], ARCHIVE["prev_archive_url"], ARCHIVE["next_archive_url"], ARCHIVE["self_url"])
    channel = rss(**ARCHIVE).find("channel")
    assert len(channel.xpath("fh:archive", namespaces=NS)) == 1
    assert {link.get("rel") for link in channel.xpath("a:link", namespaces=NS)} == {
        "self", "current", "prev-archive", "next-archive"}
    assert json_feed(**ARCHIVE)["_ledger"] == {
        "feed_id": tag("feeds/parties/HRV"), "updated": spec().updated, "archive": True,
        "current": ARCHIVE["current_url"], "prev_archive": ARCHIVE["prev_archive_url"],
        "next_archive": ARCHIVE["next_archive_url"]}


def test_the_current_document_is_not_marked_as_an_archive():
    feed = atom(prev_archive_url=f"{BASE}/feeds/parties/HRV/2.atom")
    assert feed.xpath("fh:archive", namespaces=NS) == []
    assert feed.xpath("a:link[@rel='prev-archive']/@href", namespaces=NS) == [f"{BASE}/feeds/parties/HRV/2.atom"]
    assert rss().xpath("channel/fh:archive", namespaces=NS) == []
    assert json_feed()["_ledger"]["archive"] is False


def test_an_archive_page_rebuilt_from_the_same_rows_is_byte_identical():
    for build in (build_atom, build_rss, build_json_feed):
        assert build(spec(**ARCHIVE), ROWS) == build(spec(**ARCHIVE), list(reversed(ROWS)))


def test_hub_link_is_present_when_configured():
    hub = "https://hub.example/websub"
    assert atom(hub_url=hub).xpath("a:link[@rel='hub']/@href", namespaces=NS) == [hub]
    assert rss(hub_url=hub).xpath("channel/a:link[@rel='hub']/@href", namespaces=NS) == [hub]
    assert json_feed(hub_url=hub)["hubs"] == [{"type": "WebSub", "url": hub}]


def test_hub_link_is_absent_otherwise():
    assert atom().xpath("a:link[@rel='hub']", namespaces=NS) == []
    assert rss().xpath("channel/a:link[@rel='hub']", namespaces=NS) == []
    assert "hubs" not in json_feed()


# Robustness: whatever text arrives, every reader still parses the feed.

@FORMATS
def test_control_characters_become_replacement_characters_and_the_feed_stays_valid(fmt):
    row = change(1, summary=f"Pledge{CONTROLS}made", note=f"tab\tand{CONTROLS}",
                 sources=[{"title": f"Report{CONTROLS}", "document": "d\x00"}])
    title, content = texts(fmt, [row])
    assert title == "Pledge" + "\ufffd" * len(CONTROLS) + "made"
    assert "tab\tand" + "\ufffd" * len(CONTROLS) in content and "\x00" not in content


@FORMATS
def test_emoji_and_right_to_left_text_survive_unchanged(fmt):
    row = change(1, summary=f"{EMOJI} {ARABIC}", note=HEBREW, recorded_by=ARABIC)
    title, content = texts(fmt, [row])
    assert title == f"{EMOJI} {ARABIC}"
    assert HEBREW in content and ARABIC in content


@FORMATS
def test_a_100_kb_description_gives_a_valid_feed(fmt):
    note = ("Stockpile destruction figures, paragraph by paragraph. " * 2000)[:100_000]
    _, content = texts(fmt, [change(1, note=note)])
    assert note in content


def test_clean_joins_surrogate_pairs_and_replaces_lone_halves():
    assert clean("a\ud83d\ude00b") == "a😀b"
    assert clean("\ud800x\udfff") == "\ufffdx\ufffd"
    assert clean("keep\t\n\r") == "keep\t\n\r"


# What an entry says, in every format.

@FORMATS
def test_entries_are_newest_first_whatever_the_input_order(fmt):
    expected = [entry_id(change(position)) for position in (305, 304, 303, 301)]
    assert entry_ids(fmt, ROWS) == expected
    assert entry_ids(fmt, list(reversed(ROWS))) == expected


def test_atom_categories_cover_party_instrument_each_provision_and_kind():
    (entry,) = atom([ROWS[1]]).xpath("a:entry", namespaces=NS)
    categories = [(c.get("scheme"), c.get("term")) for c in entry.xpath("a:category", namespaces=NS)]
    assert categories == [
        (tag("party"), "HRV"), (tag("instrument"), "CCM"), (tag("action"), "VAP:14"), (tag("action"), "VAP:21"),
        (tag("kind"), "CommitmentPledged"), (tag("kind"), "commitments")]


def test_rss_categories_carry_their_scheme_as_domain():
    item = rss([ROWS[1]]).find("channel/item")
    assert [(c.get("domain"), c.text) for c in item.findall("category")][:3] == [
        (tag("party"), "HRV"), (tag("instrument"), "CCM"), (tag("action"), "VAP:14")]


def test_json_feed_tags_name_their_scheme():
    assert json_feed([ROWS[1]])["items"][0]["tags"] == [
        "party:HRV", "instrument:CCM", "action:VAP:14", "action:VAP:21", "kind:CommitmentPledged", "kind:commitments"]


def test_entry_authors_are_who_recorded_the_change():
    (entry,) = atom([ROWS[3]]).xpath("a:entry", namespaces=NS)
    assert entry.findtext("a:author/a:name", namespaces=NS) == "monitor"
    assert rss([ROWS[3]]).findtext("channel/item/dc:creator", namespaces=NS) == "monitor"


def test_content_shows_the_diff_both_clocks_the_recorder_and_the_sources():
    html = etree.fromstring(f"<div>{entry_html(ROWS[2])}</div>")
    assert html.xpath("table/tbody/tr/*/text()") == ["due", "2013-08-01", "2015-08-01"]
    assert html.xpath("string(p[2])") == (
        "Took effect on 2011-08-20; recorded 2026-11-23 12:03 UTC by demo (log position 303).")
    assert html.xpath("p[2]/time/@datetime") == ["2011-08-20", "2026-11-23T12:03:19.812227+00:00"]
    assert html.findtext("p") == "Extension granted at 4MSP"
    (link,) = html.xpath("ul/li/a")
    assert (link.get("href"), link.text) == ("https://example.org/ccm/2msp.pdf", "Final report of the 2MSP")
    assert html.xpath("string(ul/li)") == "Final report of the 2MSP (CCM/MSP/2011/5, paragraph 31)"


def test_content_shows_an_effective_period_and_an_empty_before_value():
    html = etree.fromstring(f"<div>{entry_html(ROWS[0])}</div>")
    assert html.xpath("table/tbody/tr/td/text()") == ["—", "Somalia"]
    assert html.xpath("string(p)") == (
        "Took effect 2010-11-01 to 2011-08-20 (the exact day is not known); "
        "recorded 2026-11-23 12:01 UTC by demo (log position 301).")


def test_content_without_an_effective_date_says_it_took_effect_when_recorded():
    html = etree.fromstring(f"<div>{entry_html(change(1, effective_on=None, recorded_by=''))}</div>")
    assert html.xpath("string(p)") == (
        "Took effect when it was recorded; recorded 2026-11-23 12:01 UTC (log position 1).")


def test_content_shows_changed_fields_in_words_and_list_items_never_as_json():
    step = {"type": "ReviewOpened", "on": "2014-01-01", "event_id": "e1", "summary": "The Committee met"}
    row = change(1, diff={"state": ["filed", "under_review"], "steps": [[], [step]],
                          "corrections": [None, []], "provisions": [["VAP:14", "VAP:21"], ["VAP:14"]]})
    html = etree.fromstring(f"<div>{entry_html(row)}</div>")
    cells = [[cell.xpath("string()") for cell in tr.xpath("*")] for tr in html.xpath("table/tbody/tr")]
    assert cells == [["state", "filed", "under review"],
                     ["steps", "—", "Review opened on 2014-01-01: The Committee met"],
                     ["provisions", "VAP:21", "—"]]
    assert html.xpath("table//ins/text()") == ["Review opened on 2014-01-01: The Committee met"]
    assert html.xpath("table//del/text()") == ["VAP:21"]
    assert "[" not in html.xpath("string(table)") and "{" not in html.xpath("string(table)")


def test_content_escapes_markup_in_the_data_and_links_only_web_urls():
    row = change(1, note="<script>alert(1)</script> & co",
                 sources=[{"title": "<b>Bold</b>", "url": "javascript:alert(1)"}])
    html = etree.fromstring(f"<div>{entry_html(row)}</div>")
    assert html.findtext("p") == "<script>alert(1)</script> & co"
    assert html.xpath("//script | //a | //b") == []
    assert html.xpath("string(ul/li)") == "<b>Bold</b>"
