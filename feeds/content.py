"""One HTML rendering and one set of categories per change, shared so Atom, RSS and JSON Feed say the same thing."""

from __future__ import annotations

from html import escape
from typing import Any

import orjson

from feeds.model import Row

LINKABLE = ("http://", "https://")


def entry_html(row: Row) -> str:
    """The change as an HTML fragment: note, field diff, both clocks, who recorded it, and its sources."""
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
    if not diff:
        return "<p>No field changed.</p>"
    rows = "".join(
        f'<tr><th scope="row">{escape(field)}</th><td>{escape(_shown(before))}</td>'
        f"<td>{escape(_shown(after))}</td></tr>"
        for field, (before, after) in diff.items()
    )
    return ('<table><caption>What changed</caption><thead><tr><th scope="col">Field</th>'
            f'<th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>{rows}</tbody></table>')


def _clocks(row: Row) -> str:
    effective = (row.get("effective_on") or "not stated").replace("/", " to ")
    recorded = escape(row["recorded_at"])
    return (f'<dl><dt>Recorded at</dt><dd><time datetime="{recorded}">{recorded}</time></dd>'
            f"<dt>Effective on</dt><dd>{escape(effective)}</dd>"
            f"<dt>Recorded by</dt><dd>{escape(row.get('recorded_by') or 'unknown')}</dd>"
            f"<dt>Log position</dt><dd>{row['position']}</dd></dl>")


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
    where += [f"paragraph {escape(str(source['paragraph']))}"] if source.get("paragraph") else []
    return title + (f" ({', '.join(where)})" if where else "")


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
