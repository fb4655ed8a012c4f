"""Atom 1.0 (RFC 4287) documents of change-log rows."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from feedgen.ext.base import BaseEntryExtension
from lxml import etree

from feeds.generator import add_entry, feed_generator
from feeds.model import FeedSpec, Row, newest_first


def build_atom(spec: FeedSpec, rows: Iterable[Row]) -> bytes:
    """The Atom document for these rows, newest first; the same inputs always give the same bytes."""
    fg = feed_generator(spec, "application/atom+xml")
    for row in newest_first(rows):
        fe = add_entry(fg, row)
        fe.register_extension("page", partial(_HtmlLink, spec.entity_url(row)), atom=True, rss=False)
    return fg.atom_str(pretty=True)


class _HtmlLink(BaseEntryExtension):
    """Writes the entry's link itself: feedgen drops rel and type on Atom entry links (its issue 135)."""

    def __init__(self, href: str) -> None:
        self.href = href

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        # A plain name: feedgen declares the Atom namespace as the document's default.
        etree.SubElement(entry, "link", href=self.href, rel="alternate", type="text/html")
        return entry
