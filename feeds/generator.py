"""The feedgen setup Atom and RSS share, with every clock taken from the inputs so the bytes depend only on them."""

from __future__ import annotations

from functools import partial

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.content import categories, entry_html
from feeds.model import PUBLISHER, FeedSpec, Row, entry_id, tag, timestamp

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"


def feed_generator(spec: FeedSpec, self_type: str) -> FeedGenerator:
    """A generator with the feed-level fields set; self_type is the media type of this document."""
    fg = FeedGenerator()
    fg.id(spec.feed_id)
    fg.title(spec.title)
    fg.subtitle(spec.subtitle)
    fg.updated(timestamp(spec.updated))  # feedgen stamps now() on updated and lastBuildDate otherwise
    fg.generator(PUBLISHER)  # replaces feedgen's default, which carries feedgen's own version
    fg.author(name=PUBLISHER)  # Atom needs a feed author when there are no entries to carry one
    fg.link(href=spec.self_url, rel="self", type=self_type)
    for rel, href in spec.related_links():
        fg.link(href=href, rel=rel)
    fg.link(href=spec.html_url, rel="alternate", type="text/html")  # last: RSS takes its channel link from it
    fg.register_extension("history", partial(_History, spec), atom=True, rss=True)
    return fg


def add_entry(fg: FeedGenerator, row: Row) -> FeedEntry:
    """Append one change as an entry, without its link (Atom and RSS need different workarounds there)."""
    fe = fg.add_entry(order="append")  # feedgen prepends by default, which would reverse newest-first
    fe.id(entry_id(row))  # also the RSS guid, with isPermaLink="false"
    fe.title(row["summary"])
    recorded = timestamp(row["recorded_at"])
    fe.updated(recorded)  # feedgen stamps now() otherwise
    fe.published(recorded)
    fe.content(entry_html(row), type="html")
    fe.category([{"term": term, "scheme": tag(scheme)} for scheme, term in categories(row)])
    if row.get("recorded_by"):
        fe.author(name=row["recorded_by"])
    return fe


class _History(BaseExtension):
    """RFC 5005 archive markup, and for RSS the hub and archive links feedgen only writes into Atom."""

    def __init__(self, spec: FeedSpec) -> None:
        self.spec = spec

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS} if self.spec.is_archive else {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        self._mark_archive(feed)
        return feed

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed[0]
        for rel, href in self.spec.related_links():
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
        self._mark_archive(channel)
        return feed

    def _mark_archive(self, parent: etree._Element) -> None:
        if self.spec.is_archive:
            etree.SubElement(parent, f"{{{HISTORY_NS}}}archive")
