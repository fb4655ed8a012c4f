"""Carrying out NDJSON command files: each line checked for shape, then recorded atomically."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from api.schemas import CommandLine, creation_id
from ledger.commands import Ledger, Outcome
from ledger.entity import Provenance
from ledger.errors import LedgerError


@dataclass(frozen=True)
class LineError:
    """Why one line of a command file was refused (1-based line number)."""

    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"line {self.line}{where}: {self.reason}"


@dataclass
class ImportReport:
    recorded: int = 0
    skipped: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


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


def run_line(ledger: Ledger, raw: bytes | str, recorded_by: str) -> Outcome:
    """Check and carry out one command line; raises ValidationError or LedgerError."""
    line = CommandLine.validate_json(raw)
    data = creation_id(line.data.model_dump(mode="json"), line.key)
    provenance = Provenance(
        recorded_by=recorded_by,
        effective_on=line.effective_on,
        sources=tuple(source.model_dump(mode="json", exclude_none=True) for source in line.sources),
        note=line.note,
    )
    return ledger.execute(line.command, data, provenance_=provenance, key=line.key)


def import_lines(
    ledger: Ledger,
    lines: Iterable[bytes | str],
    recorded_by: str,
    on_line: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Record every good line; name every bad one. Nothing of a bad line is recorded."""
    report = ImportReport()
    for number, raw in enumerate(lines, start=1):
        if on_line is not None:
            on_line(number)
        if not raw.strip():
            continue
        try:
            outcome = run_line(ledger, raw, recorded_by)
        except ValidationError as error:
            report.errors.extend(
                LineError(number, field_, reason) for field_, reason in validation_errors(error)
            )
            continue
        except LedgerError as error:
            report.errors.append(LineError(number, error.field, str(error)))
            continue
        if outcome.replayed:
            report.skipped += 1
        else:
            report.recorded += 1
    return report
