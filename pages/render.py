"""The page renderer: a page's data and its frame in, HTML out, through Jinja2 templates that
escape every value. Templates never query; they show what the route handed them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pages.figures import page_url, party_timeline, plan_heatmap, treaty_map
from projections.diffs import readable_diff
from projections.overviews import Names

FEED_FORMATS = (("atom", "Atom"), ("rss", "RSS"), ("json", "JSON Feed"))
FEED_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml",
              "json": "application/feed+json"}


@dataclass(frozen=True)
class Frame:
    """What every page has around its content: title, own URL, JSON twin, feeds, names."""

    title: str
    path: str  # the page's path, e.g. /parties/HRV
    names: Names
    feed: str = "changes"  # the scope under /feeds/, e.g. parties/HRV
    feed_title: str = "every change"
    query: dict[str, str] = field(default_factory=dict)  # the page's own filters, if any
    json_path: str | None = None  # the twin's URL, query included, when not path + .json

    @property
    def json_url(self) -> str:
        if self.json_path:
            return self.json_path
        return ("/index.json" if self.path == "/" else self.path + ".json") + self.query_string

    @property
    def query_string(self) -> str:
        return "?" + urlencode(self.query) if self.query else ""

    def feeds(self) -> list[tuple[str, str, str]]:
        """(label, href, media type) of the scope's feed in every format, with the page's query."""
        return [(label, f"/feeds/{self.feed}.{fmt}{self.query_string}", FEED_TYPES[fmt])
                for fmt, label in FEED_FORMATS]

#: what the change log's kind filter offers: entity families, then event types people ask for
CHANGE_KINDS = {
    "commitments": "Commitments (every step)", "obligations": "Obligations (every step)",
    "reports": "Reports (every step)", "allegations": "Allegations (every step)",
    "fundings": "Funding", "parties": "Parties and treaty status",
    "instruments": "Treaties, plans and provisions", "CommitmentPledged": "New pledges",
    "ReportSubmitted": "Reports submitted", "DeadlineLapsed": "Deadlines lapsed",
    "AllegationFiled": "Allegations filed", "AllegationResolved": "Allegations resolved",
    "ExtensionRequested": "Extensions requested", "CompletionDeclared": "Completions declared",
    "EntryCorrected": "Corrections", "EntryRetracted": "Retractions",
    "checkpoints": "Signed checkpoints",
}


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("pages", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(moment=moment, machine_time=machine_time, effective=effective, words=words,
                       urlpart=urlpart)
    env.globals.update(readable_diff=readable_diff, url_with=url_with, kinds=CHANGE_KINDS,
                       page_url=page_url, party_timeline=party_timeline, plan_heatmap=plan_heatmap,
                       treaty_map=treaty_map)
    return env


def render(template: str, frame: Frame, data: dict[str, Any], **extra: Any) -> str:
    """The page `template` showing `data` inside the common frame."""
    return _environment().get_template(template).render(frame=frame, data=data, **extra)


def error_page(problem: dict[str, Any]) -> str:
    """A problem (RFC 9457 fields) as a page, for a browser that asked for one."""
    frame = Frame(problem["title"], problem["instance"], Names({}, {}))
    return render("error.html", frame, problem)


def moment(value: str | None) -> str:
    """An RFC 3339 time as a reader says it: 2011-08-20 14:03 UTC."""
    if not value:
        return "not stated"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if when.tzinfo is None:
        return when.isoformat(sep=" ", timespec="minutes")
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def machine_time(value: str) -> str:
    """An RFC 3339 time with at most milliseconds, as HTML's <time datetime> allows."""
    try:
        return datetime.fromisoformat(value).isoformat(timespec="milliseconds")
    except ValueError:
        return value


def effective(value: str | None) -> str:
    """A day, or a range of days when the source only says the fact happened within it."""
    if not value:
        return "not stated"
    first, _, last = value.partition("/")
    if not last or last == first:
        return first
    return f"some time between {first} and {last}"


def words(value: Any) -> str:
    """A code-like value (in_progress, not_credible) as words."""
    return str(value).replace("_", " ") if value is not None else "—"


def urlpart(value: str) -> str:
    """A path segment or query value, percent-encoded."""
    return quote(str(value), safe=":")


def url_with(path: str, query: dict[str, str], **changes: Any) -> str:
    """`path` with the page's query, some keys changed or (given None) removed."""
    merged = {**query, **{k: str(v) for k, v in changes.items() if v is not None}}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
    return path + ("?" + urlencode(merged) if merged else "")
