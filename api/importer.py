"""Carrying out NDJSON command files, line by line or all or nothing, with an outcome per line."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from dataclasses import dataclass
from typing import Any, Literal, get_args

import orjson
from pydantic import BaseModel, Field, ValidationError

from api.schemas import CommandLine, creation_id
from ledger.commands import Command, Ledger, Outcome
from ledger.entity import Provenance
from ledger.errors import LedgerError, StoreUnavailable

#: recorded now, recorded before (same key, same command), refused, or held back though good
LineOutcomeName = Literal["recorded", "already_recorded", "refused", "not_recorded"]


@dataclass(frozen=True)
class LineError:
    """Why one line of a command file was refused (1-based line number)."""

    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"line {self.line}{where}: {self.reason}"


class FieldReason(BaseModel):
    field: str = Field(description="dotted path in the line, `(line)` for the line as a whole")
    reason: str


class LineOutcome(BaseModel):
    """What became of one line: its entity, events and log position, or why it was refused."""

    line: int = Field(description="1-based line number in the body (blank lines are not listed)")
    key: str | None = Field(None, description="the line's idempotency key, if it could be read")
    command: str | None = None
    outcome: LineOutcomeName = Field(description=(
        "`recorded` by this request; `already_recorded` under the same key before (nothing "
        "new recorded); `refused` (fix it, see `errors`); `not_recorded`: nothing wrong with "
        "the line, but this request recorded nothing of it (an atomic batch with a refused "
        "line, or the store failed): send it again"))
    entity: str | None = Field(None, description="the entity's path", examples=["parties/HRV"])
    events: list[str] | None = Field(None, description="ids of the events the line recorded")
    position: int | None = Field(None, description="log position of the line's last event "
                                 "(recorded lines)")
    type: str | None = Field(None, description="problem type of a refusal, as a single "
                             "command's problem+json would name it")
    title: str | None = None
    errors: list[FieldReason] | None = Field(None, description="why it was refused (or, on the "
                                             "line where the store failed, why it is not recorded)")


class ImportReport(BaseModel):
    """Every non-blank line's outcome, in order, and the count of each outcome."""

    atomic: bool = False
    recorded: int = 0
    already_recorded: int = 0
    refused: int = 0
    not_recorded: int = 0
    interrupted: str | None = Field(None, description="why the import stopped early (the store "
                                    "failed); the lines it did not reach are `not_recorded`")
    lines: list[LineOutcome] = []

    @classmethod
    def of(cls, lines: list[LineOutcome], atomic: bool = False,
           interrupted: str | None = None) -> ImportReport:
        counts = Counter(line.outcome for line in lines)
        return cls(atomic=atomic, interrupted=interrupted, lines=lines, **{
            outcome: counts[outcome] for outcome in get_args(LineOutcomeName)})

    @property
    def errors(self) -> list[LineError]:
        return [LineError(line.line, e.field, e.reason)
                for line in self.lines for e in line.errors or ()]

    @property
    def ok(self) -> bool:
        return not self.refused and not self.not_recorded

    def summary(self) -> str:
        held = f", {self.not_recorded} not recorded" if self.not_recorded else ""
        return (f"{self.recorded} recorded, {self.already_recorded} already recorded, "
                f"{self.refused} refused{held}")


def validation_errors(error: ValidationError) -> list[tuple[str, str]]:
    """(field, reason) pairs from a pydantic error, with the field as a dotted path."""
    pairs = []
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        # the first element of a tagged union's location is the command name: drop it
        if len(loc) > 1 and loc[1] in ("data", "key", "effective_on", "sources", "note"):
            loc = loc[1:]
        pairs.append((".".join(loc) or "(line)", item["msg"]))
    return pairs


def parse_line(raw: bytes | str, recorded_by: str) -> Command:
    """One command line checked for shape; raises ValidationError."""
    line = CommandLine.validate_json(raw)
    provenance = Provenance(
        recorded_by=recorded_by,
        effective_on=line.effective_on,
        sources=tuple(source.model_dump(mode="json", exclude_none=True) for source in line.sources),
        note=line.note,
    )
    data = creation_id(line.data.model_dump(mode="json"), line.key)
    return Command(line.command, data, provenance, line.key)


def run_line(ledger: Ledger, raw: bytes | str, recorded_by: str) -> Outcome:
    """Check and carry out one command line; raises ValidationError or LedgerError."""
    command = parse_line(raw, recorded_by)
    return ledger.execute(command.name, command.data, provenance_=command.provenance,
                          key=command.key)


Parsed = tuple[int, bytes | str, Command | ValidationError]
#: lines checked together and recorded in one transaction when not atomic
CHUNK = 500


def import_lines(
    ledger: Ledger,
    lines: Iterable[bytes | str],
    recorded_by: str,
    on_line: Callable[[int], Any] | None = None,
    atomic: bool = False,
) -> ImportReport:
    """Record every good line and name every bad one; nothing of a bad line is recorded.
    `atomic`: record every line or, if any is bad, none (VersionConflict if concurrent writes
    keep overtaking the batch). If the store fails, the import stops and says so in
    `interrupted`."""
    parsed = ((number, raw, _parse(raw, recorded_by)) for number, raw in _numbered(lines, on_line))
    if atomic:
        return _import_atomically(ledger, list(parsed))
    outcomes: list[LineOutcome] = []
    while chunk := list(islice(parsed, CHUNK)):
        try:
            outcomes.extend(_carry_out(ledger, chunk, "accepted"))
        except StoreUnavailable as error:
            outcomes.extend(_held_back([*chunk, *parsed]))
            return ImportReport.of(outcomes, interrupted=f"{error}; nothing recorded from "
                                   f"line {chunk[0][0]} on")
    return ImportReport.of(outcomes)


def _import_atomically(ledger: Ledger, parsed: list[Parsed]) -> ImportReport:
    valid = all(not isinstance(command, ValidationError) for _, _, command in parsed)
    try:
        outcomes = _carry_out(ledger, parsed, "all" if valid else "none")
    except StoreUnavailable as error:
        return ImportReport.of(_held_back(parsed), atomic=True, interrupted=str(error))
    if any(line.outcome == "refused" for line in outcomes):
        for line in outcomes:  # nothing was saved: no line of this request is recorded
            if line.outcome == "recorded":
                line.outcome, line.entity, line.events = "not_recorded", None, None
    return ImportReport.of(outcomes, atomic=True)


def _carry_out(
    ledger: Ledger, parsed: list[Parsed], save: Literal["all", "accepted", "none"]
) -> list[LineOutcome]:
    results = iter(ledger.execute_all(
        [command for _, _, command in parsed if not isinstance(command, ValidationError)],
        save=save))
    return [_invalid(number, raw, command) if isinstance(command, ValidationError)
            else _outcome(number, command, next(results)) for number, raw, command in parsed]


def _numbered(
    lines: Iterable[bytes | str], on_line: Callable[[int], Any] | None
) -> Iterator[tuple[int, bytes | str]]:
    """Non-blank lines with their 1-based numbers, telling `on_line` of each line read."""
    for number, raw in enumerate(lines, start=1):
        if on_line is not None:
            on_line(number)
        if raw.strip():
            yield number, raw


def _parse(raw: bytes | str, recorded_by: str) -> Command | ValidationError:
    try:
        return parse_line(raw, recorded_by)
    except ValidationError as error:
        return error


def _outcome(number: int, command: Command, result: Outcome | LedgerError) -> LineOutcome:
    line = LineOutcome(line=number, key=command.key, command=command.name, outcome="refused")
    if isinstance(result, LedgerError):
        title = re.sub(r"(?<!^)(?=[A-Z])", " ", type(result).__name__)
        line.type = "/-/problems#" + title.lower().replace(" ", "-")
        line.title = title
        line.errors = [FieldReason(field=result.field or "(line)", reason=str(result))]
        return line
    line.outcome = "already_recorded" if result.replayed else "recorded"
    line.entity, line.events = result.result, result.events
    line.position = result.position or None
    return line


def _invalid(number: int, raw: bytes | str, error: Any) -> LineOutcome:
    key, command = _readable(raw)
    return LineOutcome(
        line=number, key=key, command=command, outcome="refused",
        type="/-/problems#invalid-request", title="Invalid request",
        errors=[FieldReason(field=f, reason=r) for f, r in validation_errors(error)],
    )


def _held_back(parsed: list[Parsed]) -> list[LineOutcome]:
    return [_invalid(number, raw, command) if isinstance(command, ValidationError)
            else LineOutcome(line=number, key=command.key, command=command.name,
                             outcome="not_recorded")
            for number, raw, command in parsed]


def _readable(raw: bytes | str) -> tuple[str | None, str | None]:
    """The key and command of a line that failed its checks, where they can be read."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(record, dict):
        return None, None
    key, command = record.get("key"), record.get("command")
    return (key if isinstance(key, str) and len(key) <= 200 else None,
            command if command in Ledger.COMMANDS else None)
