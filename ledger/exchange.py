"""The export formats (NDJSON and CloudEvents 1.0) and reading them back for a restore.

Every value in an export comes from the stored event; nothing is generated on the way out, so
an export, restored into an empty store and exported again, gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

from ledger.errors import InvalidValue

FORMATS = ("ndjson", "cloudevents")
CLOUDEVENTS_SOURCE = "urn:commitment-ledger"
CLOUDEVENTS_TYPE_PREFIX = "org.commitment-ledger."
TOPIC_PREFIX = "ledger."


def export_line(
    stored: StoredEvent, fmt: str = "ndjson", *, position: int | None = None,
    state: dict[str, Any] | None = None,
) -> bytes:
    """One stored event as one line of the export (with its trailing newline).

    The store's log position is left out of exports (a restored store may number its log
    differently where the original had gaps); the HTTP log adds it with `position`. `state` is
    the stored state already parsed, if the caller has it.
    """
    if state is None:
        state = orjson.loads(stored.state)
    event_type = stored.topic.rsplit(".", 1)[-1]
    if fmt == "ndjson":
        record: dict[str, Any] = {} if position is None else {"position": position}
        record |= {
            "id": state["event_id"],
            "type": event_type,
            "entity": state["entity"],
            "aggregate_id": str(stored.originator_id),
            "aggregate_version": stored.originator_version,
            "recorded_at": state["timestamp"],
            "topic": stored.topic,
            "state": orjson.Fragment(stored.state),
        }
    elif fmt == "cloudevents":
        record = {
            "specversion": "1.0",
            "id": state["event_id"],
            "source": CLOUDEVENTS_SOURCE,
            "type": CLOUDEVENTS_TYPE_PREFIX + event_type,
            "subject": state["entity"],
            "time": state["timestamp"],
            "datacontenttype": "application/json",
            "ledgertopic": stored.topic,
            "ledgeraggregateid": str(stored.originator_id),
            "ledgeraggregateversion": stored.originator_version,
            "data": orjson.Fragment(stored.state),
        }
    else:
        raise InvalidValue(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def export_lines(stored_events: Iterable[StoredEvent], fmt: str = "ndjson") -> Iterator[bytes]:
    for stored in stored_events:
        yield export_line(stored, fmt)


def read_export(lines: Iterable[bytes | str]) -> Iterator[StoredEvent]:
    """Stored events from an export in either format; a bad line raises naming its number."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield _stored_event(orjson.loads(line))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            reason = f"missing field {error}" if isinstance(error, KeyError) else str(error)
            raise InvalidValue(f"export line {number}: {reason}", field=f"line {number}") from None


def _stored_event(record: dict[str, Any]) -> StoredEvent:
    if "specversion" in record:
        event_id, recorded_at, state = record["id"], record["time"], record["data"]
        topic = record["ledgertopic"]
        originator = record["ledgeraggregateid"]
        version = record["ledgeraggregateversion"]
    else:
        event_id, recorded_at, state = record["id"], record["recorded_at"], record["state"]
        topic = record["topic"]
        originator = record["aggregate_id"]
        version = record["aggregate_version"]
    if not isinstance(topic, str) or not topic.startswith(TOPIC_PREFIX):
        raise ValueError(f"topic {topic!r} is not a ledger event")
    if not isinstance(state, dict):
        raise ValueError("event state is not an object")
    if state.get("event_id") != event_id or state.get("timestamp") != recorded_at:
        raise ValueError("id or recorded time disagrees with the event state")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"aggregate version {version!r} is not a positive integer")
    return StoredEvent(
        originator_id=UUID(originator),
        originator_version=version,
        topic=topic,
        state=orjson.dumps(state),
    )
