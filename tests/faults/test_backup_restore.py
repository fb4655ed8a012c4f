"""Backup and restore as an operator runs them, with the `ledger` command: an export of a real
log (the demo data, writes of every kind, corrections, a retraction, lapsed deadlines and a signed
checkpoint) restored into a fresh PostgreSQL database and a fresh SQLite file is the same ledger:
the same audit tree, the same state digest, the same bytes exported again, and `ledger verify`
accepts it. A store that is not empty is never restored into."""

from __future__ import annotations

import uuid
from pathlib import Path

from audit import signed_note
from audit.checkpoints import TreeHead, issue_checkpoint, tree_head
from ledger.commands import Ledger
from projections.runner import Projector, run_tick
from tests.e2e.test_cli import ledger, one_error_line
from tests.factories import run
from tests.faults.checks import wait_until_projected
from tests.postgres import Server
from tests.servers import serving

ORIGIN = "backup.test/log"


def record_every_kind(database_url: str) -> str:
    """The demo data, then one command of each kind the demo lacks, a correction, a retraction,
    lapsed deadlines, a signed checkpoint and a write after it; returns the verifier key."""
    assert ledger(database_url, "demo").returncode == 0
    recorder = Ledger(database_url)
    try:
        pledged = run(recorder, "pledge_commitment", id="bk-c1", party="HRV",
                      provisions=["CCM:3"], text="Destroy the stockpile", due_on="2013-08-01")
        run(recorder, "report_progress", commitment="bk-c1", status="in_progress",
            quantities={"destroyed": 10404}, summary="Ünïcode ✓ مرحبا")
        run(recorder, "extend_due_date", commitment="bk-c1", due_on="2014-08-01", reason="late")
        run(recorder, "correct_entry", entity="commitments/bk-c1", event=pledged.events[0],
            fields={"text": "Destroy the whole stockpile"}, reason="wording")
        run(recorder, "assess_commitment", commitment="bk-c1", outcome="kept",
            assessor="independent", assessed_by="CMC")
        run(recorder, "pledge_commitment", id="bk-c2", party="HRV", provisions=["CCM:4"],
            text="Clear the last areas", due_on="2040-01-01")
        run(recorder, "withdraw_commitment", commitment="bk-c2", reason="superseded")
        run(recorder, "pledge_funding", id="bk-f1", donor="HRV", amount="1000.50",
            currency="EUR", period="2014")
        run(recorder, "disburse_funding", funding="bk-f1", amount="500", currency="EUR")
        run(recorder, "declare_obligation", id="bk-o1", party="HRV", provision="CCM:4",
            kind="clearance", description="Contaminated areas", deadline="2020-08-01")
        run(recorder, "request_extension", obligation="bk-o1", requested_deadline="2025-08-01",
            reason="more time")
        run(recorder, "refuse_extension", obligation="bk-o1", reason="not justified")
        run(recorder, "request_extension", obligation="bk-o1", requested_deadline="2023-08-01",
            reason="less time")
        run(recorder, "grant_extension", obligation="bk-o1", deadline="2023-08-01")
        run(recorder, "schedule_report", party="HRV", instrument="CCM", kind="annual",
            period="2030", due_on="2031-04-30")
        submitted = run(recorder, "submit_report", party="HRV", instrument="CCM", kind="annual",
                        period="2029", received_on="2030-04-01", covers=["CCM:7"])
        run(recorder, "amend_report", report=submitted.result.removeprefix("reports/"),
            received_on="2030-05-01", summary="corrected figures")
        filed = run(recorder, "file_allegation", id="bk-a1", against="HRV", provision="CCM:3",
                    filed_by="CMC", summary="Alleged use")
        run(recorder, "open_review", allegation="bk-a1")
        run(recorder, "resolve_allegation", allegation="bk-a1", outcome="unfounded")
        run(recorder, "reopen_allegation", allegation="bk-a1", reason="new evidence")
        run(recorder, "retract_entry", entity="allegations/bk-a1", event=filed.events[0],
            reason="filed against the wrong state")
    finally:
        recorder.close()
    signer, verifier = signed_note.generate_key(ORIGIN)
    with Projector(database_url) as projector:
        assert run_tick(projector, "2031-06-01")
        issue_checkpoint(projector, signer, ORIGIN)
        run(projector.ledger, "report_obligation_progress", obligation="bk-o1", summary="later")
    return verifier


def head(database_url: str) -> TreeHead:
    with Projector(database_url) as projector:
        return tree_head(projector)


def digest(database_url: str) -> str:
    """`ledger digest`'s hex digest, checked against the rows (its position may differ where
    the original log has gaps)."""
    result = ledger(database_url, "digest", "--recompute")
    assert result.returncode == 0, result.stderr
    return result.stdout.decode().split()[1]


def fresh_store(kind: str, server: Server, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder}/restored-{uuid.uuid4().hex[:8]}.db"
    return server.create_database(f"restored_{uuid.uuid4().hex[:12]}")


#: each export format and the fresh stores it is restored into
TARGETS = {"ndjson": ("sqlite", "postgres"), "cloudevents": ("postgres",)}
REFUSED = "error: the store is not empty; restore appends only into an empty store\n"


def test_an_export_restored_into_fresh_stores_is_the_same_ledger_and_verifies(
        database_url, postgres_server, tmp_path):
    verifier = tmp_path / "verifier.key"
    verifier.write_text(record_every_kind(database_url) + "\n")
    original = head(database_url)
    witness = str(tmp_path / "witness.json")
    for fmt, kinds in TARGETS.items():
        backup = tmp_path / f"backup.{fmt}"
        assert ledger(database_url, "export", "--format", fmt, "-o", str(backup)).returncode == 0
        events = len(backup.read_bytes().splitlines())
        assert events == original.size > 1100
        for kind in kinds:
            target = fresh_store(kind, postgres_server, tmp_path)
            restored = ledger(target, "restore", str(backup))
            assert restored.returncode == 0, (fmt, kind, restored.stderr)
            assert restored.stderr == f"restored {events} events\n".encode()
            assert head(target) == original, (fmt, kind)  # tree size, root and state digest
            again = tmp_path / f"again.{fmt}.{kind}"
            assert ledger(target, "export", "--format", fmt, "-o", str(again)).returncode == 0
            assert again.read_bytes() == backup.read_bytes(), (fmt, kind)
        verified = ledger(target, "verify", "--key", str(verifier), "--export", str(again),
                          "--witness", witness)
        assert verified.returncode == 0, (fmt, verified.stderr)
        assert verified.stdout.decode().endswith(f"at tree size {original.size - 4}\n")
    assert f"set-sha256:{digest(target)}" == original.state_digest  # as `ledger digest` prints it

    assert one_error_line(ledger(target, "restore", str(backup))) == REFUSED
    assert head(target) == original  # nothing appended

    with serving(target) as server:  # the restored store serves; `verify --url` accepts it
        wait_until_projected(server.base)
        verified = ledger(target, "verify", "--key", str(verifier), "--url", server.base,
                          "--witness", witness)
        assert verified.returncode == 0, verified.stderr
