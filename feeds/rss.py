"""RSS 2.0 documents of change-log rows."""

from __future__ import annotations

from collections.abc import Iterable

from feeds.generator import add_entry, feed_generator
from feeds.model import FeedSpec, Row, newest_first


def build_rss(spec: FeedSpec, rows: Iterable[Row]) -> bytes:
    """The RSS document for these rows, newest first; the same inputs always give the same bytes."""
    fg = feed_generator(spec, "application/rss+xml")
    fg.load_extension("dc", atom=False, rss=True)  # RSS <author> needs an email; dc:creator takes a name
    for row in newest_first(rows):
        fe = add_entry(fg, row)
        fe.link(href=spec.entity_url(row))
        if row.get("recorded_by"):
            fe.dc.dc_creator(row["recorded_by"])
    return fg.rss_str(pretty=True)
