"""What every picture shares: escaped SVG elements, a text alternative, a legend, and numbers written
the same way every time, so a picture is valid XML, safe under a strict CSP and byte-identical per input."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from markupsafe import Markup, escape

from feeds.text import clean

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK, MUTED, RULE, PAPER, LINK = "#1a1a1a", "#555555", "#bdbdbd", "#ffffff", "#0b5394"

Attrs = dict[str, object]


def text(value: object) -> Markup:
    """Any value as escaped XML text (characters XML forbids become U+FFFD)."""
    return escape(clean(str(value)))


def num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros: 12, 12.5, -0.25."""
    written = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if written == "-0" else written


def element(name: str, attrs: Attrs | None = None, *children: str) -> str:
    """One element; attributes whose value is None are left out, the rest escaped."""
    written = "".join(f' {key}="{text(value)}"'
                      for key, value in (attrs or {}).items() if value is not None)
    if not children:
        return f"<{name}{written}/>"
    return f"<{name}{written}>{''.join(children)}</{name}>"


def tip(label: object) -> str:
    """A <title> child: the browser shows it on hover, screen readers read it."""
    return f"<title>{text(label)}</title>"


def link(href: str | None, *children: str) -> str:
    """The children inside a link to `href`, or inside a plain group when there is none."""
    return element("a", {"href": href}, *children) if href else element("g", None, *children)


def picture_id(kind: str, *parts: object) -> str:
    """An id derived from the input, so ids are stable per input and differ between pictures."""
    return f"{kind}-{hashlib.sha256(repr(parts).encode()).hexdigest()[:10]}"


def figure(kind: str, ident: str, title: str, description: str, attrs: Attrs, *body: str,
           role: str = "img") -> Markup:
    """The outer <svg>: its role, a <title> and <desc> it is labelled by, then the body."""
    frame: Attrs = {"xmlns": SVG_NS, "class": f"picture {kind}", "id": ident, "role": role,
                    "aria-labelledby": f"{ident}-title {ident}-desc", **attrs,
                    "font-family": FONT, "fill": INK}
    return Markup(element("svg", frame,
                          element("title", {"id": f"{ident}-title"}, text(title)),
                          element("desc", {"id": f"{ident}-desc"}, text(description)), *body))


def swatch_legend(entries: Iterable[tuple[str, Attrs]], x: float, y: float,
                  gap: float = 18) -> tuple[str, float]:
    """A row of labelled 12x12 swatches starting at (x, y): the markup and the x where it ends."""
    marks = []
    for label, paint in entries:
        marks.append(element("rect", {"x": num(x), "y": num(y), "width": 12, "height": 12, **paint}))
        marks.append(element("text", {"x": num(x + 17), "y": num(y + 10.5), "font-size": 13}, text(label)))
        x += 17 + 7.2 * len(label) + gap
    return element("g", {"class": "legend"}, *marks), x


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 report', '3 reports', '2 parties'."""
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"
