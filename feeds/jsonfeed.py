"""JSON Feed 1.1 documents of change-log rows, saying what the Atom and RSS documents say."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from feeds.content import categories, entry_html
from feeds.model import FeedSpec, Row, entry_id, newest_first, timestamp

VERSION = "https://jsonfeed.org/version/1.1"
LEDGER_KEYS = ("position", "event_id", "entity", "type", "recorded_at", "effective_on", "sources", "diff")


def build_json_feed(spec: FeedSpec, rows: Iterable[Row]) -> bytes:
    """The JSON Feed document for these rows, newest first; the same inputs always give the same bytes."""
    document: dict[str, Any] = {
        "version": VERSION,
        "title": spec.title,
        "description": spec.subtitle,
        "home_page_url": spec.html_url,
        "feed_url": spec.self_url,
    }
    if spec.hub_url:
        document["hubs"] = [{"type": "WebSub", "url": spec.hub_url}]
    document["_ledger"] = {
        "feed_id": spec.feed_id,
        "updated": spec.updated,
        "archive": spec.is_archive,
        **{rel.replace("-", "_"): href for rel, href in spec.related_links() if rel != "hub"},
    }
    document["items"] = [_item(spec, row) for row in newest_first(rows)]
    return orjson.dumps(document)


def _item(spec: FeedSpec, row: Row) -> dict[str, Any]:
    recorded = timestamp(row["recorded_at"]).isoformat()
    return {
        "id": entry_id(row),
        "url": spec.entity_url(row),
        "title": row["summary"],
        "content_html": entry_html(row),
        "date_published": recorded,
        "date_modified": recorded,
        "authors": [{"name": row["recorded_by"]}] if row.get("recorded_by") else [],
        "tags": [f"{scheme}:{term}" for scheme, term in categories(row)],
        "_ledger": {key: row.get(key) for key in LEDGER_KEYS},
    }
