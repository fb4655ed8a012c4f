"""The log's side of witnessing: each new checkpoint goes to each configured witness with a
consistency proof from the last checkpoint that witness cosigned, and the cosignatures that
come back are kept beside the log (never in it: the leaves stay as they were) and appended to
the checkpoint wherever it is served."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from audit import signed_note
from audit.witness import SIZE_TYPE, add_checkpoint
from ledger.storage import schema_lock
from projections.audit import AuditModel
from projections.store import StateView

log = logging.getLogger("ledger.cosigning")

#: seconds between attempts at a witness that failed: doubled each time up to the last
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)


@dataclass(frozen=True)
class WitnessConfig:
    """A witness the ledger asks: its submission prefix and its cosignature/v1 verifier key."""

    url: str
    key: signed_note.Verifier

    @classmethod
    def parse(cls, entry: str) -> WitnessConfig:
        """`<URL> <verifier key>`."""
        url, _, key = entry.strip().partition(" ")
        if not url.startswith(("http://", "https://")) or not key.strip():
            raise ValueError(f"a witness is '<URL> <verifier key>', not {entry.strip()!r}")
        return cls(url, signed_note.parse_witness_key(key.strip()))


def parse_witnesses(text: str) -> list[WitnessConfig]:
    """Witnesses separated by commas or newlines."""
    return [WitnessConfig.parse(entry) for entry in text.replace("\n", ",").split(",")
            if entry.strip()]


class Cosignatures:
    """The `audit_cosignatures` table: one cosignature line per (tree size, witness key),
    beside the read models but no part of them (a rebuild keeps it)."""

    def __init__(self, view: StateView) -> None:
        self.view = view
        if view.read_only:
            return
        big = "INTEGER" if view.dialect == "sqlite" else "BIGINT"
        with schema_lock(view.database_url), view.transaction() as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS audit_cosignatures (tree_size {big} "
                           "NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL, "
                           "PRIMARY KEY (witness, tree_size))")

    def _rows(self, statement: str, params: tuple[Any, ...]) -> list[Any]:
        with self.view.transaction(commit=False) as cursor:
            cursor.execute(self.view.sql(statement), params)
            return cursor.fetchall()

    def lines(self, tree_size: int) -> list[str]:
        """The cosignature lines of the checkpoint at tree_size, in a stable order."""
        rows = self._rows("SELECT line FROM audit_cosignatures WHERE tree_size = ? "
                          "ORDER BY witness", (tree_size,))
        return [row["line"] for row in rows]

    def cosigned(self, state: dict[str, Any]) -> str:
        """A checkpoint's signed note with every cosignature it has gathered appended."""
        return state["signed_note"] + "".join(self.lines(state["tree_size"]))

    def last_size(self, witness: str) -> int | None:
        """The largest tree size the witness has cosigned for this log, as far as we know."""
        rows = self._rows("SELECT MAX(tree_size) AS size FROM audit_cosignatures "
                          "WHERE witness = ?", (witness,))
        return rows[0]["size"] if rows and rows[0]["size"] is not None else None

    def has(self, witness: str, tree_size: int) -> bool:
        return bool(self._rows("SELECT 1 FROM audit_cosignatures WHERE witness = ? AND "
                               "tree_size = ?", (witness, tree_size)))

    def add(self, witness: str, tree_size: int, line: str) -> None:
        with self.view.transaction() as cursor:
            cursor.execute(self.view.sql(
                "INSERT INTO audit_cosignatures (tree_size, witness, line) VALUES (?, ?, ?) "
                "ON CONFLICT (witness, tree_size) DO NOTHING"), (tree_size, witness, line))


def newest_checkpoint(view: StateView) -> dict[str, Any] | None:
    """The state of the newest checkpoint in the read model (the last one recorded)."""
    with view.transaction(commit=False) as cursor:
        cursor.execute("SELECT state FROM entities WHERE kind = 'checkpoints' "
                       "ORDER BY position DESC LIMIT 1")
        row = cursor.fetchone()
    return orjson.loads(row["state"]) if row else None


class WitnessRefused(Exception):
    """The witness answered, but not with a cosignature we can use."""


class WitnessClient:
    """Gets one witness's cosignature on each newest checkpoint; `step` says how long to wait."""

    def __init__(self, config: WitnessConfig, poll: float) -> None:
        self.config = config
        self.witness = config.key.key_string()
        self.poll = poll
        self.failures = 0
        self.known: int | None = None  # the size the witness said it holds (409)
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def step(self, view: StateView, audit: AuditModel, cosignatures: Cosignatures) -> float:
        """Ask for the newest checkpoint's cosignature if it lacks one; seconds to wait next."""
        state = newest_checkpoint(view)
        if state is None or cosignatures.has(self.witness, state["tree_size"]):
            return self.poll
        try:
            line = self._cosign(state, audit, cosignatures.last_size(self.witness) or 0)
        except (httpx.HTTPError, WitnessRefused, ValueError) as error:  # ValueError: a bad 409
            wait = BACKOFF[min(self.failures, len(BACKOFF) - 1)]
            self.failures += 1
            log.warning("witness %s has not cosigned tree size %d: %s; trying again in %g s",
                        self.config.url, state["tree_size"], error, wait)
            return wait
        cosignatures.add(self.witness, state["tree_size"], line)
        self.failures, self.known = 0, state["tree_size"]
        return 0.0

    def _cosign(self, state: dict[str, Any], audit: AuditModel, last: int) -> str:
        """The witness's verified cosignature line, asked with a proof from the last size it
        cosigned (`last`, as we know it); once more from the size it says it holds (409)."""
        size = state["tree_size"]
        for _ in range(2):
            old = self.known if self.known is not None else last
            if old > size:
                raise WitnessRefused(f"it holds tree size {old}, above ours: a fork, or this "
                                     "ledger was restored from an older backup")
            proof = audit.consistency(old, size) if 0 < old < size else []
            response = add_checkpoint(self.http, self.config.url, old, proof,
                                      state["signed_note"])
            if response.status_code == 409 and response.headers.get(
                    "content-type", "").startswith(SIZE_TYPE):
                self.known = int(response.text.strip())
                continue
            if response.status_code != 200:
                raise WitnessRefused(f"{response.status_code} {response.text.strip()[:200]}")
            return self._verified(state["signed_note"], response.text)
        raise WitnessRefused(f"409: it holds tree size {self.known}")

    def _verified(self, note: str, answer: str) -> str:
        """The witness's own cosignature lines from its answer, once they verify on the note."""
        mine = [line + "\n" for line in answer.splitlines()
                if line.startswith(f"{signed_note.SIGNATURE_PREFIX}{self.config.key.name} ")]
        try:
            if not mine or self.witness not in signed_note.cosigners(note + "".join(mine),
                                                                    [self.config.key]):
                raise WitnessRefused("the answer holds no cosignature from its key")
        except signed_note.NoteError as error:
            raise WitnessRefused(f"its cosignature does not verify: {error}") from None
        return "".join(mine)
