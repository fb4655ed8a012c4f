"""Field diffs as a reader reads them: labels in words, values as text, lists and dicts as the
items added and removed. One presentation-neutral list that feeds and pages both render."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: labels that are more than the field's name in words
LABELS = {
    "due_on": "due date", "original_due_on": "original due date", "statuses": "treaty status",
    "status_history": "treaty status history", "party_kind": "kind of party",
    "instrument_kind": "kind of instrument", "obligation_kind": "kind of obligation",
    "report_kind": "kind of report", "provision_kind": "kind of provision", "parent": "part of",
    "covers": "provisions covered", "extensions": "extension requests", "withdrawn": "withdrawal",
    "occurred_on": "took place on",
}
#: fields the fold keeps for its own books: the field that matters beside it shows the change
HIDDEN = frozenset({"status_before_lapse"})
#: fields whose values are codes from a fixed set, shown in words ("in_progress": "in progress")
CODES = frozenset({"status", "state", "outcome", "kind", "party_kind", "instrument_kind",
                   "obligation_kind", "report_kind", "provision_kind"})
#: the words that say what a list item is, the first one present leads its line
MAIN = ("summary", "title", "finding", "recommendation", "reason", "description", "text")
#: identifiers a reader does not need in an item's line (the item's own event is the change)
UNSHOWN = frozenset({"event_id"})


@dataclass(frozen=True)
class FieldChange:
    """One changed field: before and after as text, or for a list or dict the items removed and
    added (an entry whose value changed is removed with its old value and added with its new)."""

    field: str
    label: str
    before: str = ""
    after: str = ""
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()


def readable_diff(diff: dict[str, list[Any]]) -> list[FieldChange]:
    """The changed fields of a diff row (`{field: [before, after]}`), in its order, leaving out
    the empty values a new entity starts with and the fold's bookkeeping."""
    shown = []
    for field, (before, after) in diff.items():
        if field in HIDDEN or (before is None and _empty(after)):
            continue
        label = label_of(field)
        if isinstance(before, (list, dict)) or isinstance(after, (list, dict)):
            old, new = _items(field, before), _items(field, after)
            removed, added = _missing(old, new), _missing(new, old)
            if removed or added:
                shown.append(FieldChange(field, label, removed=removed, added=added))
            else:  # the same items in another order
                shown.append(FieldChange(field, label, "; ".join(old), "; ".join(new)))
        else:
            shown.append(FieldChange(field, label, _text(field, before), _text(field, after)))
    return shown


def label_of(field: str) -> str:
    """A field's name in words: `due_on` is "due date", `filed_by` "filed by"."""
    return LABELS.get(field, field.replace("_", " "))


def _empty(value: Any) -> bool:
    return value is None or value is False or value in ("", [], {})


def _items(field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [f"{key}: {_entry(item) if isinstance(item, dict) else _text(key, item)}"
                for key, item in value.items()]
    if isinstance(value, list):
        return [_entry(item) if isinstance(item, dict) else _text(field, item) for item in value]
    return [_text(field, value)]


def _missing(items: Iterable[str], others: Iterable[str]) -> tuple[str, ...]:
    """The items not among the others, counting repeats."""
    left = Counter(others)
    missing = []
    for item in items:
        if left[item]:
            left[item] -= 1
        else:
            missing.append(item)
    return tuple(missing)


def _entry(entry: dict[str, Any]) -> str:
    """A list item on one line: what happened and when, its main words, then its other fields."""
    head = _words(entry["type"]) if entry.get("type") else ""
    if head and entry.get("on"):
        head += f" on {entry['on']}"
    main = next((key for key in MAIN if isinstance(entry.get(key), str) and entry[key]), None)
    done = {"type", "on"} if head else set()
    rest = "; ".join(f"{label_of(key)}: {_inline(key, value)}" for key, value in entry.items()
                     if key not in done | UNSHOWN | {main} and not _empty(value))
    if main is None:
        return f"{head}: {rest}" if head and rest else head or rest
    line = f"{head}: {entry[main]}" if head else entry[main]
    return f"{line} ({rest})" if rest else line


def _inline(field: str, value: Any) -> str:
    """A value inside an item: nested entries in brackets."""
    if isinstance(value, dict):
        return f"({_entry(value)})"
    if isinstance(value, list):
        return ", ".join(_inline(field, item) for item in value)
    return _text(field, value)


def _text(field: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return _inline(field, value)
    text = str(value)
    return text.replace("_", " ") if field in CODES else text


def _words(name: str) -> str:
    """An event type in words: ReviewOpened is "Review opened"."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).capitalize()
