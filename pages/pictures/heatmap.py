"""The action-plan progress matrix as a heatmap: one row per party, one column per action, each cell
shaded by how far the party got. Cells keep a fixed size, so a big plan scrolls instead of shrinking."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup

from pages.pictures.svg import (LINK, MUTED, PAPER, element, figure, link, num, picture_id, plural,
                                swatch_legend, text, tip)

# A one-hue ramp from light to dark: ordered like the levels, readable in greyscale and by every
# kind of colour vision (ColorBrewer "Blues").
LEVELS = {"pledged": "#c6dbef", "stated": "#8cbfe0", "reported": "#4292c6",
          "completed": "#08306b"}
UNKNOWN_LEVEL = "#969696"
GRID = "#d0d0d0"
CELL, PITCH, PAD, NAME_CHARS = 16, 18, 8, 26


def heatmap(plan: str, matrix: Mapping[str, Any], party_names: Mapping[str, str],
            action_titles: Mapping[str, str], href: Callable[[str], str]) -> Markup:
    """The `GET /v1/matrix/{plan}` body as an SVG heatmap; empty when there is no party or no action."""
    actions: list[str] = list(matrix.get("actions") or [])
    parties: Mapping[str, Mapping[str, str]] = matrix.get("parties") or {}
    if not actions or not parties:
        return Markup("")
    rows = sorted(parties, key=lambda code: (party_names.get(code, code).casefold(), code))
    names = {code: party_names.get(code, code) for code in rows}
    label_width = 14 + 8 * min(NAME_CHARS, max(len(name) for name in names.values()))
    legend, legend_end = swatch_legend(
        [(level.capitalize(), {"fill": fill}) for level, fill in LEVELS.items()]
        + [("Nothing recorded", {"fill": PAPER, "stroke": GRID})], PAD, PAD)
    header, header_height = _column_header(actions, action_titles, label_width, PAD + 30)
    top = PAD + 30 + header_height
    width = max(label_width + PITCH * len(actions) + PAD, legend_end + PAD)
    height = top + PITCH * len(rows) + PAD
    counts = Counter(level for code in rows for level in parties[code].values())
    body = [legend, header, _grid(len(rows), len(actions), label_width, top)]
    for index, code in enumerate(rows):
        y = top + PITCH * index
        body.append(link(href(code), tip(f"{names[code]} ({code})"),
                         element("text", {"x": label_width - 6, "y": num(y + 12.5), "font-size": 13,
                                          "text-anchor": "end", "fill": LINK}, text(_shorten(names[code])))))
        for column, action in enumerate(actions):
            level = parties[code].get(action)
            if level is not None:
                title = f"{names[code]} ({code}), {action_titles.get(action, 'Action ' + action)}: {level}"
                body.append(element("rect", {"x": label_width + PITCH * column + 1, "y": y + 1, "width": CELL,
                                             "height": CELL, "fill": LEVELS.get(level, UNKNOWN_LEVEL),
                                             "class": f"cell {level}"}, tip(title)))
    recorded = ", ".join(f"{counts[level]} {level}" for level in LEVELS)
    description = (f"Progress of {plural(len(rows), 'party', 'parties')} "
                   f"on {plural(len(actions), 'action')} of the {plan}: {recorded}; "
                   f"{len(rows) * len(actions) - sum(counts.values())} cells with nothing recorded.")
    return figure("heatmap", picture_id("heatmap", plan, actions, rows),
                  f"{plan}: progress by party and action", description,
                  {"viewBox": f"0 0 {width} {height}", "width": width, "height": height}, *body, role="group")


def _column_header(actions: list[str], titles: Mapping[str, str], left: int, top: int) -> tuple[str, int]:
    """Action numbers over their columns, upright when short, turned when long: the markup and its height."""
    longest = max(len(action) for action in actions)
    height = 20 if longest <= 3 else 10 + 7 * longest
    marks = []
    for column, action in enumerate(actions):
        x = left + PITCH * column + 1 + CELL / 2
        attrs: dict[str, object] = {"x": num(x), "y": top + height - 6, "font-size": 12,
                                    "text-anchor": "middle"}
        if longest > 3:
            attrs.update({"x": num(x + 4), "text-anchor": "start",
                          "transform": f"rotate(-90 {num(x + 4)} {top + height - 6})"})
        marks.append(element("text", attrs, tip(titles.get(action, f"Action {action}")), text(action)))
    return element("g", {"class": "actions", "fill": MUTED}, *marks), height


def _grid(rows: int, columns: int, left: int, top: int) -> str:
    """The empty cells' outlines as one path, so 'nothing recorded' costs no element per cell."""
    right, bottom = left + PITCH * columns, top + PITCH * rows
    lines = [f"M{left + PITCH * c} {top}V{bottom}" for c in range(columns + 1)]
    lines += [f"M{left} {top + PITCH * r}H{right}" for r in range(rows + 1)]
    return element("path", {"d": "".join(lines), "fill": "none", "stroke": GRID, "class": "grid"})


def _shorten(name: str) -> str:
    """A row label that fits the label column; the full name stays in the row's tooltip."""
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1].rstrip() + "…"
