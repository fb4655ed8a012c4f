"""What one feed document is, whatever its format, and the ids that must never change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from urllib.parse import quote

from feeds.text import clean, clean_tree

TAG = "tag:commitment-ledger,2026:"
PUBLISHER = "Commitment Ledger"

Row = dict[str, Any]


def tag(specific: str) -> str:
    """A tag URI (RFC 4151) under the ledger's authority: the same input names the same thing forever."""
    return TAG + specific


def entry_id(row: Row) -> str:
    """The entry's id, from the event id alone, so no rebuild, page or scope can change it."""
    return tag("event/" + row["event_id"])


def entity_page(entity: str) -> str:
    """The path of an entity's HTML page: /{family}/{id}; a checkpoint's is the audit page."""
    return "/audit" if entity.startswith("checkpoints/") else "/" + quote(entity)


def timestamp(value: str) -> datetime:
    """An RFC 3339 string as an aware datetime; feedgen refuses naive ones, and so do we, earlier."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a UTC offset: {value!r}")
    return moment


def newest_first(rows: Iterable[Row]) -> list[Row]:
    """The rows in the order every format lists them, newest log position first, with XML-safe text."""
    return [clean_tree(row) for row in sorted(rows, key=lambda row: row["position"], reverse=True)]


def last_updated(rows: Iterable[Row], empty: str) -> str:
    """The newest row's recorded_at, or the caller's fixed value for an empty feed (never the clock)."""
    latest = max(rows, key=lambda row: row["position"], default=None)
    return latest["recorded_at"] if latest else empty


@dataclass(frozen=True)
class FeedSpec:
    """One feed document's identity, links and clock; every string is made XML-safe on creation."""

    title: str
    subtitle: str
    base_url: str  # the ledger's root: entity pages live at base_url + entity_page(entity)
    self_url: str  # the exact URL this document is fetched at
    html_url: str  # the HTML page of the scope
    feed_id: str  # a stable tag URI for the scope, e.g. tag("feeds/parties/HRV")
    updated: str  # RFC 3339 with offset: the newest entry's recorded_at, or a fixed value when empty
    hub_url: str | None = None
    current_url: str | None = None
    prev_archive_url: str | None = None
    next_archive_url: str | None = None
    is_archive: bool = False

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str):
                object.__setattr__(self, field.name, clean(value))
        timestamp(self.updated)

    def entity_url(self, row: Row) -> str:
        return self.base_url.rstrip("/") + entity_page(row["entity"])

    def related_links(self) -> list[tuple[str, str]]:
        """The WebSub and RFC 5005 links (rel, href) that are set, in a fixed order."""
        links = (("hub", self.hub_url), ("current", self.current_url),
                 ("prev-archive", self.prev_archive_url), ("next-archive", self.next_archive_url))
        return [(rel, href) for rel, href in links if href]
