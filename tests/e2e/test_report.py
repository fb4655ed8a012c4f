"""The progress report the ledger writes: on the demo data as effective on 2011-08-20 it states
the counts and names the States of seed 003 paragraphs 17-78 (the figure table of
test_seed_figures), every number links to a change-log query returning exactly the events it
counts, and what moved between two clocks names the States and their events."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import lxml.html
import pytest

from projections.queries import Clock
from projections.report import CACHE
from projections.store import open_view
from tests.conftest import require
from tests.e2e.test_seed_figures import ROWS
from tests.factories import run, setup_ccm

ON = "2011-08-20"
#: seed 003's figures in paragraphs 17-78 that name their States or state a total
BEIRUT = [row[1:] for row in ROWS if row[0] == "CCM" and 17 <= int(row[1]) <= 78
          and (row[6] or row[5] is not None)]


def get(client, path, **params):
    response = client.get(path, params=params or None)  # else the path's own query is dropped
    assert response.status_code == 200, response.text
    return response


@pytest.fixture(scope="module")
def report(demo):
    """The CCM report as effective on the Beirut report's date: its JSON and its HTML tree."""
    data = get(demo, "/instruments/CCM/report.json", effective_on=ON).json()
    page = lxml.html.fromstring(get(demo, "/instruments/CCM/report", effective_on=ON).text)
    figures = {(f["code"], f["described_as"]): f for s in data["sections"] for f in s["figures"]}
    return data, page, figures


@pytest.mark.parametrize(("para", "footnote", "code", "described_as", "stated", "named"), BEIRUT,
                         ids=[f"{r[0]}-{r[1] or ''}-{r[2]}-{r[3]}" for r in BEIRUT])
def test_the_report_counts_and_names_the_states_of_the_beirut_report(
    report, para, footnote, code, described_as, stated, named
):
    data, page, figures = report
    where = f"para {para} footnote {footnote}: {code} ({described_as})"
    figure = figures[(code, described_as or "any")]
    if described_as is None:  # a total that does not describe its parties counts them all
        assert set(named.split()) <= {p["code"] for p in figure["named"]}, where
    else:
        assert [p["code"] for p in figure["named"]] == named.split(), where
        assert figure["count"] == len(named.split()), where
    item = page.get_element_by_id(f"figure-{code}-{described_as or 'any'}")
    if named:
        counted = item.find_class("count")[0]
        assert counted.text_content() == str(figure["count"]), where
        note = page.get_element_by_id(f"fn-{figure['notes']['named']}")
        linked = [a.get("href") for a in note.iter("a")]
        assert [f"/parties/{p}" for p in sorted({p["code"] for p in figure["named"]})] == [
            href for href in linked if href.startswith("/parties/")], where
    if stated is None:
        return
    assert stated in {figure["stated"]["value"]} | set(_every_total(data, code, described_as))
    if named and figure["stated"]["value"] == stated and int(stated) != len(named.split()):
        note = page.get_element_by_id(f"fn-{figure['notes']['difference']}")
        assert f"The document states {stated} " in note.text_content(), where
        assert f"the ledger names {len(named.split())} " in note.text_content(), where


def _every_total(data, code, described_as):
    """Stated totals the report shows for (code, description): its latest one per figure."""
    return [f["stated"]["value"] for s in data["sections"] for f in s["figures"]
            if f["code"] == code and f["stated"]]


def test_every_number_links_to_a_change_log_query_returning_exactly_its_events(demo, report):
    data, page, figures = report
    by_link = {}
    for figure in figures.values():
        by_link[figure["link"]] = (set(figure["events"]), figure["count"])
        if figure["stated"]:
            by_link[figure["stated"]["link"]] = ({figure["stated"]["event_id"]}, None)
    numbers = [a for cls in ("count", "stated") for a in page.find_class(cls)]
    assert len(numbers) > 150
    for anchor in numbers:
        href = anchor.get("href")
        events, count = by_link[href]
        url = urlsplit(href)
        assert url.path == "/changes"
        get(demo, href)  # the page a reader follows
        rows = get(demo, "/changes.json", **dict(parse_qsl(url.query))).json()["changes"]
        assert {row["event_id"] for row in rows} == events, href
        if count is not None:
            assert anchor.text_content() == str(count)
            assert len({row["party"] for row in rows}) == count, href
        else:
            assert rows[0]["type"] == "StatementRecorded" and len(rows) == 1


def test_links_count_what_was_certain_or_possibly_true_on_the_day(demo):
    """On 30 June 2011 the statements dated "some time up to 20 August 2011" are possible, not
    certain: the certain report counts fewer, and each count's link returns exactly its events."""
    counted = {}
    for include, clock in ((None, "certain_by"), ("possible", "effective_to")):
        params = {"effective_on": "2011-06-30", **({"include": include} if include else {})}
        data = get(demo, "/instruments/CCM/report.json", **params).json()
        figures = [f for s in data["sections"] for f in s["figures"] if f["count"]]
        for figure in figures:
            assert f"{clock}=2011-06-30" in figure["link"]
            url = urlsplit(figure["link"])
            rows = get(demo, "/changes.json", **dict(parse_qsl(url.query))).json()["changes"]
            assert {row["event_id"] for row in rows} == set(figure["events"]), figure["link"]
        counted[include] = sum(f["count"] for f in figures)
    assert counted["possible"] > counted[None] > 0


def test_the_apmbc_compliance_section_as_effective_on_the_review(demo):
    """Seed 004 para 21: four cases considered, South Sudan's found not credible, security the
    challenge in the three others."""
    data = get(demo, "/instruments/APMBC/report.json", effective_on="2019-10-15").json()
    (section,) = [s for s in data["sections"] if s["key"] == "compliance"]
    named = {f["code"]: [p["code"] for p in f["named"]] for f in section["figures"]}
    assert named["compliance-allegations-considered"] == ["SDN", "SSD", "UKR", "YEM"]
    assert named["allegations-found-not-credible"] == ["SSD"]
    assert named["compliance-security-challenge"] == ["SDN", "UKR", "YEM"]


def test_a_report_as_known_at_a_log_position_links_to_what_came_before_it(demo):
    data = get(demo, "/instruments/CCM/report.json", effective_on=ON, at_position=2000).json()
    figure = next(f for s in data["sections"] for f in s["figures"] if f["count"])
    assert "before=2001" in figure["link"]
    rows = get(demo, figure["link"].replace("/changes?", "/changes.json?")).json()["changes"]
    assert {row["event_id"] for row in rows} == set(figure["events"])
    assert all(row["position"] <= 2000 for row in rows)


def test_what_moved_from_the_first_meeting_to_the_beirut_report(demo):
    data = get(demo, "/instruments/CCM/report.json", effective_on=ON,
               against_effective_on="2010-11-12").json()
    assert data["against"]["effective_on"] == "2010-11-12"
    moved = {(m["code"], m["described_as"]): m for m in data["moved"]}
    ratified = moved[("ratified-since-1msp", "state_party")]
    assert ratified["count"] == [0, 13] and not ratified["moved_out"]
    assert [p["code"] for p in ratified["moved_in"]][:3] == ["BGR", "BWA", "CHL"]
    assert all(p["events"] for p in ratified["moved_in"])
    page = lxml.html.fromstring(get(demo, "/instruments/CCM/report", effective_on=ON,
                                    against_effective_on="2010-11-12").text)
    assert "/parties/BWA" in {a.get("href") for a in page.find_class("moved-in")}


def test_a_recorded_statement_shows_in_what_moved(api):
    """Record one statement, regenerate the report: as known now against as known before, the
    State has moved into the count, on that event."""
    ledger = api.client.app.state.ledger
    setup_ccm(ledger)
    run(ledger, "add_statement_code", instrument="CCM", code="stockpile-destruction-begun",
        label="Has begun to destroy its stockpiles", area="stockpile_destruction")
    api.settle()
    empty = get(api.client, "/instruments/CCM/report.json", effective_on=ON).json()
    assert empty["sections"] == []
    before = datetime.now(timezone.utc).isoformat()
    time.sleep(0.01)
    posted = api.post("/v1/statements", {
        "id": "ccm-beirut-29-fn10-HRV", "instrument": "CCM", "code": "stockpile-destruction-begun",
        "party": "HRV", "described_as": "state_party", "provisions": ["VAP:14"],
        "text": "Croatia has begun to destroy its stockpiles.", "effective_on": ON,
        "sources": [{"title": "Beirut Progress Report", "paragraph": "29", "footnote": "10"}]})
    assert posted.status_code == 201, posted.text
    api.settle()
    data = get(api.client, "/instruments/CCM/report.json", effective_on=ON,
               against_as_known_at=before).json()
    (figure,) = data["sections"][0]["figures"]
    assert (figure["count"], figure["actions"], figure["paragraphs"]) == (1, ["14"], ["29"])
    (moved,) = data["moved"]
    assert moved["count"] == [0, 1] and moved["moved_in"][0]["code"] == "HRV"
    assert moved["moved_in"][0]["events"] == posted.json()["events"]
    text = get(api.client, "/instruments/CCM/report.md", effective_on=ON,
               against_as_known_at=before).text
    assert "In: Croatia (HRV; events " in text and "[1](http://testserver/changes?" in text


def test_reports_are_cached_per_clock_and_read_model_position(demo_url):
    view = open_view(demo_url)
    clock = Clock(effective_on=ON)
    first = CACHE.report(view, "CCM", clock)
    assert CACHE.report(view, "CCM", clock) is first
    assert CACHE.report(view, "CCM", Clock(effective_on="2010-11-12")) is not first


def test_an_unknown_instrument_or_plan_is_404(demo):
    assert demo.get("/instruments/XYZ/report").status_code == 404
    assert demo.get("/instruments/CCM/report.json", params={"plan": "APMBC"}).status_code == 404


def test_the_cli_writes_the_report_in_each_format(demo_url, tmp_path):
    env = {"LEDGER_DATABASE_URL": demo_url, "PATH": ""}
    for fmt in ("md", "json", "html"):
        out = tmp_path / f"report.{fmt}"
        subprocess.run([sys.executable, "-m", "api.cli", "report", "--instrument", "CCM",
                        "--effective-on", ON, "--format", fmt, "-o", str(out),
                        "--base-url", "https://ledger.example.org"],
                       check=True, capture_output=True, env=env)
        assert "Universalization" in out.read_text()
    # a Markdown file leaves the site: its links name it
    assert "](https://ledger.example.org/changes?kind=StatementRecorded&" in (
        tmp_path / "report.md").read_text()
    refused = subprocess.run([sys.executable, "-m", "api.cli", "report", "--instrument", "XYZ"],
                             capture_output=True, text=True, env=env)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("error: /instruments/XYZ/report.md: instruments/XYZ is "
                                      "not in the ledger")


@cache
def _poppler() -> str | None:
    return shutil.which("pdftoppm")


def test_the_pdf_has_numbered_pages_that_show_the_report(demo, demo_url):
    for tool, why in ((shutil.which("chromium"), "chromium"), (_poppler(), "poppler-utils")):
        require(tool, f"no {why}: `make test` installs it")
    response = get(demo, "/instruments/CCM/report.pdf", effective_on=ON)
    assert response.headers["content-type"] == "application/pdf"
    store = "sqlite" if demo_url.startswith("sqlite") else "postgres"
    folder = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "report" / store
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "ccm-2011-08-20.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "Page 1 of" in text and "Stockpile destruction and retention" in text
    assert "Notes" in text and "Bosnia and Herzegovina (BIH)" in text  # the footnotes
    subprocess.run([_poppler(), "-r", "60", "-png", str(pdf), str(folder / "page")], check=True)
    subprocess.run([_poppler(), "-r", "30", "-gray", str(pdf), str(folder / "gray")], check=True)
    pages = sorted(folder.glob("gray-*.pgm"))
    assert len(pages) >= 3 and len(sorted(folder.glob("page-*.png"))) == len(pages)
    for image in pages:
        pixels = image.read_bytes().split(b"\n", 3)[3]  # P5, size, depth, then one byte each
        assert min(pixels) < 100 and sum(p < 200 for p in pixels) > 500, image  # not blank
