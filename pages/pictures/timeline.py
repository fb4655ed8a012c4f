"""A party's timeline: one lane per kind of fact on a year axis. Positions are percentages of the
width and text keeps its size, so the same markup reads on a phone and a wide screen; marks too
close to tell apart merge into one counted mark, which keeps the picture bounded for any history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from markupsafe import Markup

from pages.pictures.svg import (INK, MUTED, PAPER, RULE, element, figure, link, num, picture_id, plural, text,
                                tip)

# Lane order, heading, what one fact is called, and colour (Okabe-Ito, safe for every kind of colour
# vision; the lane, not the colour, says what a mark is, so greyscale print loses nothing).
GROUPS = {
    "status": ("Treaty status", "status change", "#000000"),
    "commitment": ("Commitments", "commitment", "#0072b2"),
    "obligation": ("Obligations", "obligation", "#009e73"),
    "report": ("Reports", "report", "#56b4e9"),
    "deadline": ("Deadlines", "deadline", "#d55e00"),
    "allegation": ("Allegations", "allegation step", "#cc79a7"),
    "funding": ("Funding", "funding record", "#e69f00"),
}
ON_DARK = ("status", "commitment")  # lanes whose counts are written in white
LEFT, SPAN = 4.0, 92.0  # the axis runs from 4% to 96% of the width
MERGE = 5.0  # facts starting closer than this many percent of the width merge (a dot's width at 375 px)
POINT = 0.8  # an interval narrower than this many percent is drawn as a dot
TOP, LANE, AXIS = 24, 42, 28
LISTED = 8  # labels a merged mark's tooltip names before "and N more"

Scale = Callable[[date], float]


class Fact(NamedTuple):
    start: date
    end: date
    group: str
    label: str
    href: str


def timeline(items: Sequence[Mapping[str, str]], today: str) -> Markup:
    """Dated facts as an SVG timeline with a lane per group and a marker for `today`; empty for no items."""
    if not items:
        return Markup("")
    facts = sorted(_fact(item) for item in items)
    first, last = facts[0].start, max(fact.end for fact in facts)
    start, end = date(first.year, 1, 1).toordinal(), date(last.year + 1, 1, 1).toordinal()

    def x(day: date) -> float:
        return LEFT + SPAN * (day.toordinal() - start) / (end - start)

    lanes = [group for group in GROUPS if any(fact.group == group for fact in facts)]
    height = TOP + LANE * len(lanes) + AXIS
    body = [element("rect", {"x": 0, "y": TOP + LANE * index, "width": "100%", "height": LANE,
                             "fill": "#f3f3f3"}) for index in range(1, len(lanes), 2)]
    body.append(_axis(first.year, last.year + 1, x, height))
    body += [_lane(group, [f for f in facts if f.group == group], x, TOP + LANE * index)
             for index, group in enumerate(lanes)]
    when = date.fromisoformat(today)
    shown = start <= when.toordinal() <= end
    if shown:
        body.append(_today(when, x(when), height))
    counts = Counter(fact.group for fact in facts)
    description = (f"{plural(len(facts), 'dated fact')} from {first} to {last}: "
                   + ", ".join(plural(counts[group], GROUPS[group][1]) for group in lanes)
                   + "." + (f" Today is {today}." if shown else ""))
    years = str(first.year) if first.year == last.year else f"{first.year} to {last.year}"
    return figure("timeline", picture_id("timeline", facts, today), f"Timeline, {years}", description,
                  {"width": "100%", "height": height}, *body, role="group")


def _fact(item: Mapping[str, str]) -> Fact:
    group = item["group"]
    if group not in GROUPS:
        raise ValueError(f"unknown timeline group {group!r}; expected one of {', '.join(GROUPS)}")
    start = date.fromisoformat(item["start"])
    end = max(start, date.fromisoformat(item.get("end") or item["start"]))
    return Fact(start, end, group, item.get("label", ""), item.get("href", ""))


def _axis(first: int, last: int, x: Scale, height: int) -> str:
    """Year gridlines across the lanes and at most seven year labels under them."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100) if (last - first) / s <= 7)
    bottom = height - AXIS
    marks = [element("line", {"x1": "0", "x2": "100%", "y1": bottom, "y2": bottom, "stroke": MUTED})]
    for year in range(first, last + 1):
        at = f"{num(x(date(year, 1, 1)))}%"
        major = year % step == 0 or step == 1
        marks.append(element("line", {"x1": at, "x2": at, "y1": TOP - 4 if major else bottom - 4,
                                      "y2": bottom + 4, "stroke": RULE if major else MUTED}))
        if step == 1 and year < last:  # one label a year, in the middle of its year
            middle = f"{num((x(date(year, 1, 1)) + x(date(year + 1, 1, 1))) / 2)}%"
            marks.append(element("text", {"x": middle, "y": bottom + 18, "text-anchor": "middle"}, str(year)))
        elif step > 1 and year % step == 0:
            marks.append(element("text", {"x": at, "y": bottom + 18, "text-anchor": "middle"}, str(year)))
    return element("g", {"class": "axis", "font-size": 12, "fill": MUTED}, *marks)


def _today(when: date, at: float, height: int) -> str:
    """A dashed line at today with its date above, the label turned inward near the right edge."""
    right = at > 75
    return element("g", {"class": "today"},
                   element("line", {"x1": f"{num(at)}%", "x2": f"{num(at)}%", "y1": 16, "y2": height - AXIS,
                                    "stroke": INK, "stroke-width": 1.5, "stroke-dasharray": "5 3"}),
                   element("text", {"x": f"{num(at)}%", "y": 13, "dx": -4 if right else 4, "font-size": 12,
                                    "text-anchor": "end" if right else "start"}, text(f"Today, {when}")))


def _lane(group: str, facts: list[Fact], x: Scale, top: int) -> str:
    """A lane: its heading with a count, then its marks, facts that start close together merged."""
    heading, _, colour = GROUPS[group]
    clusters: list[list[Fact]] = []
    for fact in facts:
        if clusters and x(fact.start) - x(clusters[-1][0].start) < MERGE:
            clusters[-1].append(fact)
        else:
            clusters.append([fact])
    marks = [_single(c[0], x, top + 27, colour) if len(c) == 1 else _merged(c, x, top + 27, colour)
             for c in clusters]
    return element("g", {"class": f"lane {group}"},
                   element("text", {"x": 4, "y": top + 13, "font-size": 12, "font-weight": "bold",
                                    "fill": MUTED}, text(f"{heading} ({len(facts)})")), *marks)


def _single(fact: Fact, x: Scale, middle: int, colour: str) -> str:
    """One fact, linked: a dot for a day, a bar for "some time in this interval", a diamond for a deadline."""
    left, right = x(fact.start), x(fact.end)
    when = str(fact.start) if fact.start == fact.end else f"some time from {fact.start} to {fact.end}"
    if fact.group == "deadline":  # due at the end of its interval
        shape = _dot(fact.group, right, middle, 6, colour)
    elif right - left >= POINT:
        shape = element("rect", {"x": f"{num(left)}%", "y": middle - 5, "width": f"{num(right - left)}%",
                                 "height": 10, "rx": 5, **_paint(colour)})
    else:
        shape = _dot(fact.group, (left + right) / 2, middle, 6, colour)
    return link(fact.href or None, tip(f"{fact.label} ({when})"), shape)


def _merged(facts: list[Fact], x: Scale, middle: int, colour: str) -> str:
    """Facts too close to tell apart: one bigger mark with their count; the tooltip lists the first few."""
    group, first, last = facts[0].group, facts[0].start, max(fact.end for fact in facts)
    at = (x(first) + x(facts[-1].start)) / 2
    lines = [f"{fact.start}: {fact.label}" for fact in facts[:LISTED]]
    if len(facts) > LISTED:
        lines.append(f"and {len(facts) - LISTED} more")
    summary = f"{plural(len(facts), GROUPS[group][1])}, {first} to {last}:\n" + "\n".join(lines)
    count = element("text", {"x": f"{num(at)}%", "y": middle + 4, "text-anchor": "middle", "font-size": 10,
                             "font-weight": "bold", "fill": PAPER if group in ON_DARK else INK},
                    str(len(facts)))
    return element("g", {"class": "merged"}, tip(summary),
                   _dot(group, at, middle, 9 if len(facts) < 100 else 11, colour), count)


def _dot(group: str, at: float, middle: int, size: int, colour: str) -> str:
    """A circle, or for a deadline a diamond (in a nested <svg>: a path cannot take percentages)."""
    if group != "deadline":
        return element("circle", {"cx": f"{num(at)}%", "cy": middle, "r": size, **_paint(colour)})
    r = size + 1
    return element("svg", {"x": f"{num(at)}%", "y": middle, "overflow": "visible"},
                   element("path", {"d": f"M0 {-r}L{r} 0 0 {r}{-r} 0Z", **_paint(colour)}))


def _paint(colour: str) -> dict[str, object]:
    return {"fill": colour, "stroke": INK, "stroke-width": 1}
