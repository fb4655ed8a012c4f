"""One HTML rendering and one set of categories per change, shared so Atom, RSS and JSON Feed say the same thing."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import Any

from feeds.model import Row
from projections.diffs import readable_diff

LINKABLE = ("http://", "https://")


def entry_html(row: Row) -> str:
    """The change as an HTML fragment: note, the fields it changed (before and after), both
    clocks and who recorded it in words, and its sources."""
    parts = [f"<p>{escape(row['note'])}</p>"] if row.get("note") else []
    parts += [_changes(row.get("diff") or {}), _clocks(row), _sources(row.get("sources") or [])]
    return "\n".join(parts)


def categories(row: Row) -> list[tuple[str, str]]:
    """(scheme, term) pairs matching the change-log filters: party, instrument, action and kind."""
    pairs = [(scheme, row[scheme]) for scheme in ("party", "instrument") if row.get(scheme)]
    pairs += [("action", provision) for provision in row.get("provisions") or []]
    pairs += [("kind", kind) for kind in (row["type"], row.get("kind")) if kind]
    return pairs


def _changes(diff: dict[str, Any]) -> str:
    fields = readable_diff(diff)
    if not fields:
        return "<p>No field changed.</p>"
    rows = "".join(
        f'<tr><th scope="row">{escape(field.label)}</th>'
        f"<td>{_side(field.before, field.removed, 'del', listed)}</td>"
        f"<td>{_side(field.after, field.added, 'ins', listed)}</td></tr>"
        for field in fields for listed in [bool(field.removed or field.added)]
    )
    return ('<table><caption>What changed</caption><thead><tr><th scope="col">Field</th>'
            f'<th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>{rows}</tbody></table>')


def _side(text: str, items: tuple[str, ...], tag: str, listed: bool) -> str:
    """One side of a changed field: its value, or for a list the items it lost or gained."""
    if listed:
        if not items:
            return "—"
        return "<ul>" + "".join(f"<li><{tag}>{escape(item)}</{tag}></li>" for item in items) + "</ul>"
    return escape(text) if text else "—"


def _clocks(row: Row) -> str:
    """Both clocks in words: when the fact took effect, and when and by whom it was recorded."""
    effective = row.get("effective_on")
    if not effective:
        took = "Took effect when it was recorded"
    elif "/" in effective:
        first, _, last = effective.partition("/")
        took = f"Took effect {_day(first)} to {_day(last)} (the exact day is not known)"
    else:
        took = f"Took effect on {_day(effective)}"
    recorded = datetime.fromisoformat(row["recorded_at"]).astimezone(timezone.utc)
    by = f" by {escape(row['recorded_by'])}" if row.get("recorded_by") else ""
    return (f'<p>{took}; recorded <time datetime="{escape(row["recorded_at"])}">'
            f'{recorded:%Y-%m-%d %H:%M} UTC</time>{by} (log position {row["position"]}).</p>')


def _day(day: str) -> str:
    return f'<time datetime="{escape(day)}">{escape(day)}</time>'


def _sources(sources: list[dict[str, Any]]) -> str:
    if not sources:
        return "<p>No source given.</p>"
    return "<h4>Sources</h4><ul>" + "".join(f"<li>{_source(source)}</li>" for source in sources) + "</ul>"


def _source(source: dict[str, Any]) -> str:
    title = escape(source.get("title") or "Untitled source")
    url = source.get("url") or ""
    if url.startswith(LINKABLE):  # never hand a reader a javascript: or data: link
        title = f'<a href="{escape(url)}">{title}</a>'
    where = [escape(source["document"])] if source.get("document") else []
    where += [f"{key} {escape(str(source[key]))}" for key in ("paragraph", "footnote")
              if source.get(key)]
    return title + (f" ({', '.join(where)})" if where else "")
