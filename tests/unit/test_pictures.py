"""Pictures: plain data in, SVG out, checked as strict XML the way a browser under a strict CSP and a
screen reader would meet it."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from lxml import etree

from pages.pictures import heatmap, timeline, world_map
from pages.pictures.timeline import GROUPS

SVG = "{http://www.w3.org/2000/svg}"
NS = {"s": "http://www.w3.org/2000/svg"}
ODD = 'Bosnia <&> "Herz"'

# Shaped like the demo's GET /v1/matrix/VAP.
VAP = {"plan": "VAP", "actions": ["2", "3", "8", "37"],
       "parties": {"HRV": {"8": "reported"}, "AUT": {"37": "completed", "8": "reported"},
                   "AFG": {"2": "pledged", "3": "pledged"}, "BIH": {"37": "pledged"}}}
PARTY_NAMES = {"HRV": "Croatia", "AUT": "Austria", "AFG": "Afghanistan", "BIH": ODD}
ACTION_TITLES = {"2": "Action #2: Universalization", "3": "Action #3: Universalization",
                 "8": "Action #8: Stockpile destruction", "37": "Action #37: Victim assistance"}


def party_page(code: str) -> str:
    return f"/parties/{code}"


def svgs(markup: str) -> list[etree._Element]:
    """Every top-level <svg> in the markup, parsed as strict XML."""
    return list(etree.fromstring(f"<div>{markup}</div>".encode()))


def one_svg(markup: str) -> etree._Element:
    (root,) = svgs(markup)
    return root


def assert_safe_and_labelled(root: etree._Element, role: str) -> None:
    """No style or script anywhere, and the picture is named by its own <title> and <desc>."""
    for node in root.iter():
        assert etree.QName(node).localname not in ("style", "script", "foreignObject")
        assert "style" not in node.attrib
        assert not any(name.startswith("on") for name in node.attrib)
    assert root.get("role") == role
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find("s:title", NS).get("id") == title_id and root.find("s:title", NS).text
    assert root.find("s:desc", NS).get("id") == desc_id and root.find("s:desc", NS).text


def xp(node: etree._Element, path: str) -> list:
    return node.xpath(path, namespaces=NS)


def tips(root: etree._Element, xpath: str) -> list[str]:
    return [node.findtext("s:title", namespaces=NS) for node in xp(root, xpath)]


# The heatmap


def test_heatmap_shades_one_cell_per_recorded_level_and_names_it():
    root = one_svg(heatmap("VAP", VAP, PARTY_NAMES, ACTION_TITLES, party_page))
    assert_safe_and_labelled(root, "group")  # it holds links, which role="img" would hide
    cells = xp(root, "//s:rect[contains(@class, 'cell')]")
    assert len(cells) == sum(len(row) for row in VAP["parties"].values())
    assert sorted(tips(root, "//s:rect[contains(@class, 'cell')]")) == sorted([
        "Afghanistan (AFG), Action #2: Universalization: pledged",
        "Afghanistan (AFG), Action #3: Universalization: pledged",
        "Austria (AUT), Action #37: Victim assistance: completed",
        "Austria (AUT), Action #8: Stockpile destruction: reported",
        f"{ODD} (BIH), Action #37: Victim assistance: pledged",
        "Croatia (HRV), Action #8: Stockpile destruction: reported"])
    fills = {cell.get("class").split()[1]: cell.get("fill") for cell in cells}
    assert len(set(fills.values())) == 3  # pledged, reported and completed look different


def test_heatmap_rows_link_to_party_pages_in_name_order():
    root = one_svg(heatmap("VAP", VAP, PARTY_NAMES, ACTION_TITLES, party_page))
    links = root.findall(".//s:a", NS)
    assert [a.get("href") for a in links] == ["/parties/AFG", "/parties/AUT", "/parties/BIH", "/parties/HRV"]
    assert [a.findtext("s:text", namespaces=NS) for a in links] == ["Afghanistan", "Austria", ODD, "Croatia"]


def test_heatmap_has_a_column_per_action_and_a_legend_of_every_level():
    root = one_svg(heatmap("VAP", VAP, PARTY_NAMES, ACTION_TITLES, party_page))
    columns = xp(root, "//s:g[@class='actions']/s:text")
    assert [column.xpath("string(text())") for column in columns] == VAP["actions"]
    assert [column.findtext("s:title", namespaces=NS) for column in columns] == list(ACTION_TITLES.values())
    legend = xp(root, "//s:g[@class='legend']/s:text/text()")
    assert legend == ["Pledged", "Stated", "Reported", "Completed", "Nothing recorded"]
    description = root.findtext("s:desc", namespaces=NS)
    assert "3 pledged, 0 stated, 2 reported, 1 completed; 10 cells with nothing recorded" in description


def test_heatmap_escapes_names_and_titles():
    markup = heatmap("VAP", VAP, PARTY_NAMES, {**ACTION_TITLES, "8": "Action <8> & co"}, party_page)
    assert "Bosnia &lt;&amp;&gt; &#34;Herz&#34;" in markup and "Action &lt;8&gt; &amp; co" in markup
    assert ODD in tips(one_svg(markup), "//s:a")[2]


def test_heatmap_of_120_parties_by_66_actions_stays_whole_and_repeatable():
    rng = random.Random(7)
    actions = [str(n) for n in range(1, 67)]
    levels = ["pledged", "reported", "completed"]
    parties = {f"P{n:03d}": {a: rng.choice(levels) for a in actions if rng.random() < .3} for n in range(120)}
    matrix = {"plan": "VAP", "actions": actions, "parties": parties}
    markup = heatmap("VAP", matrix, {}, {}, party_page)
    root = one_svg(markup)
    assert len(root.findall(".//s:a", NS)) == 120
    assert len(xp(root, "//s:rect[contains(@class, 'cell')]")) == sum(map(len, parties.values()))
    assert markup == heatmap("VAP", matrix, {}, {}, party_page)
    assert root.get("width") == root.get("viewBox").split()[2]  # cells keep their size: the page scrolls


def test_heatmap_of_an_empty_plan_is_nothing():
    assert heatmap("VAP", {"plan": "VAP", "actions": [], "parties": {}}, {}, {}, party_page) == ""
    assert heatmap("VAP", {"plan": "VAP", "actions": ["2"], "parties": {}}, {}, {}, party_page) == ""


# The timeline

TODAY = "2025-11-30"


def fact(start: str, group: str = "report", label: str = "Article 7 report", end: str | None = None,
         href: str = "/reports/r1") -> dict[str, str]:
    return {"start": start, "end": end or start, "label": label, "group": group, "href": href}


def marks(root: etree._Element) -> list[etree._Element]:
    """Each drawn fact or merged group of facts."""
    return xp(root, "//s:g[starts-with(@class, 'lane')]/*[s:title]")


def counted(root: etree._Element) -> int:
    """How many facts the marks stand for: one each, or the number a merged mark shows."""
    return sum(int(m.findtext("s:text", namespaces=NS)) if m.get("class") == "merged" else 1
               for m in marks(root))


def test_timeline_without_items_is_nothing():
    assert timeline([], TODAY) == ""


def test_timeline_of_one_fact_links_it_and_labels_its_year():
    root = one_svg(timeline([fact("2024-05-06", label=ODD)], TODAY))
    assert_safe_and_labelled(root, "group")
    (mark,) = marks(root)
    assert mark.tag == SVG + "a" and mark.get("href") == "/reports/r1"
    assert mark.findtext("s:title", namespaces=NS) == f"{ODD} (2024-05-06)"
    assert xp(root, "//s:g[@class='axis']/s:text/text()") == ["2024"]
    assert xp(root, "//s:g[contains(@class, 'lane')]/s:text/text()") == ["Reports (1)"]
    assert not xp(root, "//s:g[@class='today']")  # 2025 is outside 2024


def test_timeline_marks_today_when_it_falls_inside_the_axis():
    root = one_svg(timeline([fact("2024-05-06"), fact("2026-01-31", "deadline")], TODAY))
    assert xp(root, "//s:g[@class='today']/s:text/text()") == ["Today, 2025-11-30"]
    assert "Today is 2025-11-30." in root.findtext("s:desc", namespaces=NS)


def test_timeline_draws_deadlines_as_diamonds_and_intervals_as_bars():
    root = one_svg(timeline([fact("2030-03-01", "deadline", "Clearance deadline"),
                             fact("2022-01-01", end="2022-12-31", label="Report for 2021")], TODAY))
    deadline, report = (xp(root, f"//s:g[@class='lane {group}']/*")[1]
                        for group in ("deadline", "report"))
    assert deadline.find("s:svg/s:path", NS) is not None
    assert report.find("s:rect", NS) is not None
    assert report.findtext("s:title", namespaces=NS) == (
        "Report for 2021 (some time from 2022-01-01 to 2022-12-31)")


def test_timeline_merges_facts_of_the_same_day_into_one_counted_mark():
    items = [fact("2023-06-01", "allegation", f"Step {n}", href=f"/allegations/a{n}") for n in range(3)]
    root = one_svg(timeline(items, TODAY))
    (mark,) = marks(root)
    assert mark.get("class") == "merged" and mark.findtext("s:text", namespaces=NS) == "3"
    assert mark.findtext("s:title", namespaces=NS) == (
        "3 allegation steps, 2023-06-01 to 2023-06-01:\n"
        "2023-06-01: Step 0\n2023-06-01: Step 1\n2023-06-01: Step 2")


def test_timeline_lanes_follow_a_fixed_order_and_show_only_groups_present():
    items = [fact("2020-01-01", group) for group in reversed(list(GROUPS)) if group != "funding"]
    root = one_svg(timeline(items, TODAY))
    lanes = [g.get("class").split()[1] for g in xp(root, "//s:g[starts-with(@class, 'lane')]")]
    assert lanes == [group for group in GROUPS if group != "funding"]


def test_timeline_over_thirty_years_labels_at_most_seven_years():
    root = one_svg(timeline([fact("1996-02-01"), fact("2025-10-01")], TODAY))
    years = xp(root, "//s:g[@class='axis']/s:text/text()")
    assert years == ["2000", "2005", "2010", "2015", "2020", "2025"]
    assert len(xp(root, "//s:g[@class='axis']/s:line")) == 1 + 31  # baseline and a tick a year


def test_timeline_of_500_facts_stays_bounded_and_accounts_for_every_fact():
    rng = random.Random(3)
    days = [(date(1996, 1, 1) + timedelta(days=rng.randrange(11000))).isoformat() for _ in range(500)]
    items = [fact(day, rng.choice(list(GROUPS)), f"Fact {n} <&>", href=f"/x/{n}")
             for n, day in enumerate(days)]
    markup = timeline(items, TODAY)
    root = one_svg(markup)
    assert counted(root) == 500
    assert len(marks(root)) <= len(GROUPS) * 21  # at most one mark per 5% of the width in each lane
    assert all(title.count("\n") <= 9 for title in tips(root, "//s:g[@class='merged']"))
    assert len(markup) < 60_000
    rng.shuffle(items)
    assert timeline(items, TODAY) == markup  # the same facts in any order draw the same bytes


def test_timeline_refuses_an_unknown_group():
    with pytest.raises(ValueError, match="unknown timeline group 'pledge'"):
        timeline([fact("2020-01-01", "pledge")], TODAY)


# The world map

STATUSES = {"HRV": "state_party", "MHL": "signatory", "USA": "not_party", "VAT": "state_party",
            "EU": "state_party"}


def test_world_map_fills_each_country_by_status_with_its_name_in_a_tooltip():
    picture, legend = svgs(world_map(STATUSES, {"HRV": "Croatia", "USA": ODD, "VAT": "Holy See"}))
    assert_safe_and_labelled(picture, "img")
    countries = xp(picture, "//s:g[starts-with(@class, 'country')]")
    assert len(countries) > 200 and all(c.find("s:path", NS) is not None or c.find("s:circle", NS) is not None
                                         for c in countries)
    by_title = {c.findtext("s:title", namespaces=NS): c for c in countries}
    croatia = by_title["Croatia (HRV): State Party"]
    assert croatia.get("class") == "country state_party" and croatia.get("fill") == "#08519c"
    assert by_title["Holy See (VAT): State Party"].find("s:circle", NS) is not None  # too small for a shape
    assert by_title["Marshall Islands (MHL): Signatory"].get("class") == "country signatory"
    hatch = by_title[f"{ODD} (USA): Not party"].get("fill")
    assert hatch == f"url(#{picture.find('s:defs/s:pattern', NS).get('id')})"
    assert by_title["France (FRA): no status recorded"].get("class") == "country none"
    assert legend.get("aria-hidden") == "true"
    assert xp(legend, "//s:text/text()")[-4:] == [
        "State Party", "Signatory", "Not party", "No status recorded"]


def test_world_map_description_counts_statuses_and_names_what_it_cannot_draw():
    picture, _ = svgs(world_map(STATUSES, {"EU": "European Union"}))
    description = picture.findtext("s:desc", namespaces=NS)
    assert description.startswith(
        "Treaty status by country: 3 States Parties, 1 signatory, 1 State not party;")
    assert description.endswith("Not on the map: European Union (EU).")


def test_world_map_is_the_same_bytes_for_the_same_input_and_page_sized():
    markup = world_map(STATUSES, {"HRV": "Croatia"})
    assert markup == world_map(dict(reversed(list(STATUSES.items()))), {"HRV": "Croatia"})
    assert len(markup) < 200_000  # the source outlines are a megabyte
    assert "&lt;&amp;&gt;" in world_map({"HRV": "state_party"}, {"HRV": "Croatia <&>"})
