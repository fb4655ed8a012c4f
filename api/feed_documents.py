"""Feed documents as HTTP resources: which rows each scope and page holds (RFC 5005), built
once and kept until the log moves on, with strong ETags and Last-Modified for conditional GET."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime

from feeds.atom import build_atom
from feeds.jsonfeed import build_json_feed
from feeds.model import FeedSpec, last_updated, tag
from feeds.rss import build_rss
from projections.queries import ChangeFilter, changes, count_changes
from projections.store import StateView

FORMATS: dict[str, tuple[Callable[..., bytes], str]] = {
    "atom": (build_atom, "application/atom+xml; charset=utf-8"),
    "rss": (build_rss, "application/rss+xml; charset=utf-8"),
    "json": (build_json_feed, "application/feed+json"),
}
#: `updated` of a feed with no entries yet: fixed, so its bytes and ETag never depend on the clock
EMPTY_UPDATED = "2008-05-30T00:00:00+00:00"


@dataclass(frozen=True)
class Scope:
    """What a feed follows: its path under /feeds/, a title, and the change-log filter."""

    path: str  # e.g. "parties/HRV"
    title: str
    where: ChangeFilter
    html_path: str  # the human page, e.g. "/parties/HRV" or "/changes?kind=reports"
    query: str = ""  # a query feed's filters, canonical: "party=HRV&kind=reports"

    @property
    def feed_id(self) -> str:
        """One id per scope, and per canonical query: whatever URL or page it is read at."""
        return tag(f"feeds/{self.path}" + (f"?{self.query}" if self.query else ""))

    def url(self, base: str, fmt: str, page: int | None = None) -> str:
        """Where the document is, with the query every document of a query feed carries."""
        tail = f".{fmt}" if page is None else f"/archive/{page}.{fmt}"
        return f"{base}/feeds/{self.path}{tail}" + (f"?{self.query}" if self.query else "")


@dataclass(frozen=True)
class Document:
    body: bytes
    media_type: str
    etag: str
    last_modified: datetime
    immutable: bool

    def not_modified(self, if_none_match: str | None, if_modified_since: str | None) -> bool:
        """RFC 9110 conditional GET: If-None-Match wins over If-Modified-Since."""
        if if_none_match is not None:
            tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
            return "*" in tags or self.etag in tags
        if if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            return since.tzinfo is not None and self.last_modified.replace(microsecond=0) <= since
        return False

    def headers(self, max_age: int) -> dict[str, str]:
        cache = ("public, max-age=31536000, immutable" if self.immutable
                 else f"public, max-age={max_age}")
        headers = {"ETag": self.etag, "Cache-Control": cache}
        # HTTP dates have whole seconds: while another entry could still be recorded in the
        # newest entry's second, a client could not tell the two documents apart by date
        if datetime.now(timezone.utc) - self.last_modified > timedelta(seconds=1):
            headers["Last-Modified"] = format_datetime(self.last_modified, usegmt=True)
        return headers


class FeedDocuments:
    """Builds documents on demand and keeps them: current documents until the read model's
    position moves, full archive pages for good (they never change). Links start at
    `public_url`, or when that is unset at the base URL of the request that asked."""

    def __init__(self, view: StateView, public_url: str | None, page_size: int,
                 hub_url: str | None, capacity: int = 2048) -> None:
        self.view, self.public_url = view, public_url.rstrip("/") if public_url else None
        self.page_size, self.hub_url = page_size, hub_url
        self.cache: OrderedDict[str, tuple[int, Document]] = OrderedDict()  # by rel=self
        self.capacity, self.lock, self.build_lock = capacity, threading.Lock(), threading.Lock()

    def get(self, scope: Scope, fmt: str, page: int | None, request_base: str,
            request_query: str = "") -> Document | None:
        """The current document (page None: the newest entries) or page `page` (1-based) of
        the scope's entries in log order: full pages are immutable archives; the page after the
        last full one is being filled (so every next-archive link resolves); None beyond.
        `rel=self` is the URL asked for: the document's URL with the request's own query."""
        base = self.public_url or request_base.rstrip("/")
        self_url = scope.url(base, fmt, page).partition("?")[0] + (
            f"?{request_query}" if request_query else "")
        key = self_url  # names the base, scope, query, format and page: all a document depends on
        position = self.view.position()
        with self.lock:
            cached = self.cache.get(key)
            if cached is not None and (cached[1].immutable or cached[0] == position):
                self.cache.move_to_end(key)
                return cached[1]
        document = self._build(scope, fmt, page, base, self_url)
        if document is None:
            return None
        with self.lock:
            self.cache[key] = (position, document)
            self.cache.move_to_end(key)
            while len(self.cache) > self.capacity:
                self.cache.popitem(last=False)
        return document

    def _build(self, scope: Scope, fmt: str, page: int | None, base: str,
               self_url: str) -> Document | None:
        total = count_changes(self.view, scope.where)
        full_pages = total // self.page_size
        if page is not None and not 1 <= page <= full_pages + 1:
            return None
        number = page if page is not None else full_pages + 1
        archived = number <= full_pages
        # pages cut the scope's entries in log order; the current document holds the newest
        # page_size entries, so it is never empty once there is one (it may repeat entries of
        # the last full page: same ids, readers keep one)
        offset = (number - 1) * self.page_size if page is not None else max(0, total - self.page_size)
        rows = changes(self.view, scope.where, limit=self.page_size, offset=offset)
        updated = last_updated(rows, EMPTY_UPDATED)
        spec = FeedSpec(
            title=scope.title if page is None else f"{scope.title} (page {page})",
            subtitle="Changes recorded by the Commitment Ledger, newest first",
            base_url=base,
            self_url=self_url,
            html_url=base + scope.html_path,
            feed_id=scope.feed_id,
            updated=updated,
            hub_url=self.hub_url if page is None else None,
            current_url=scope.url(base, fmt) if page is not None else None,
            prev_archive_url=scope.url(base, fmt, number - 1) if number > 1 else None,
            next_archive_url=scope.url(base, fmt, number + 1) if archived else None,
            is_archive=archived,
        )
        build, media_type = FORMATS[fmt]
        with self.build_lock:  # feedgen's RSS dates switch the process-wide locale
            body = build(spec, rows)
        return Document(
            body=body, media_type=media_type,
            etag='"' + hashlib.sha256(body).hexdigest()[:40] + '"',
            last_modified=datetime.fromisoformat(updated),
            immutable=archived,
        )
