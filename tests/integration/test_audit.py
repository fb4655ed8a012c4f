"""Verifiable history on both stores: signed checkpoints, inclusion and consistency proofs over
HTTP, and `verify` catching a flipped byte, truncation, reordering and a rewritten history."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
import random
import sqlite3
import subprocess
import sys

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from audit import merkle, signed_note
from audit.checkpoints import issue_checkpoint, sign_and_record, tree_head
from audit.verify import ExportFile, LedgerURL, VerificationFailed, verify
from ledger.commands import Ledger
from ledger.exchange import export_lines, read_export
from projections.digest import ordered_digest
from projections.runner import Projector
from tests.factories import run, setup_ccm


@pytest.fixture(scope="module")
def keys():
    return signed_note.generate_key("test.example/ledger")


@pytest.fixture
def demo(database_url):
    subprocess.run([sys.executable, "-m", "api.cli", "demo"], check=True, capture_output=True,
                   env={"LEDGER_DATABASE_URL": database_url, "PATH": ""})
    return database_url


def checkpoint(url: str, signer: str) -> signed_note.Checkpoint:
    with Projector(url) as projector:
        note, _ = issue_checkpoint(projector, signer, "test.example/ledger")
    return signed_note.parse_checkpoint(signed_note.parse_note(note).text)


def ccm_with_checkpoint(url: str, signer: str) -> signed_note.Checkpoint:
    """A small lawful log, signed."""
    ledger = Ledger(url)
    setup_ccm(ledger)
    ledger.close()
    return checkpoint(url, signer)


def client_for(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, project_in_process=False,
                                          tick_interval=0, checkpoint_interval=0)))


# every 7th event and the last in `make test` (about 1,300 proofs take 30 s); all in `make soak`
@pytest.mark.parametrize("stride", [7, pytest.param(1, marks=pytest.mark.soak)])
def test_every_demo_event_is_included_in_the_latest_checkpoint(demo, keys, stride):
    signer, verifier = keys
    head = checkpoint(demo, signer)
    with client_for(demo) as client:
        note = client.get("/v1/audit/checkpoint").text
        assert signed_note.open_checkpoint(note, [verifier]).size == head.size
        assert client.get("/v1/audit/keys").text == verifier + "\n"
        lines = []
        while len(lines) < head.size:
            batch = client.get("/v1/audit/entries", params={"start": len(lines)}).content
            lines += batch.splitlines()
        lines = lines[:head.size]
        assert len(lines) >= 1000
        for index in sorted({*range(0, head.size, stride), head.size - 1}):
            line = lines[index]
            proof = client.get("/v1/audit/proofs/inclusion",
                               params={"index": index, "tree_size": head.size}).json()
            hashes = [base64.b64decode(h) for h in proof["hashes"]]
            assert merkle.verify_inclusion(merkle.leaf_hash(line), index, head.size, hashes,
                                           head.root_hash), index
        # every change row and its history shows its leaf index
        row = client.get("/v1/changes", params={"kind": "AllegationResolved"}).json()["changes"][0]
        assert orjson.loads(lines[row["leaf_index"]])["id"] == row["event_id"]


def test_yesterdays_checkpoint_and_todays_verify_as_consistent(database_url, keys, tmp_path):
    signer, verifier = keys
    ledger = Ledger(database_url)
    setup_ccm(ledger)
    yesterday = checkpoint(database_url, signer)
    witness = tmp_path / "witness.json"
    with client_for(database_url) as client:
        first = verify(LedgerURL(client), [verifier], witness)
    assert first.tree_size == yesterday.size
    assert f"{witness} created" in " ".join(first.checked)
    assert "consistent" not in " ".join(first.checked)
    run(ledger, "register_party", code="LAO", name="Lao PDR", kind="state")
    today = checkpoint(database_url, signer)
    assert today.size > yesterday.size
    with client_for(database_url) as client:
        proof = client.get("/v1/audit/proofs/consistency",
                           params={"first": yesterday.size, "second": today.size}).json()
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        assert merkle.verify_consistency(yesterday.size, today.size, yesterday.root_hash,
                                         today.root_hash, hashes)
        result = verify(LedgerURL(client), [verifier], witness)
        assert f"consistent with the checkpoint at tree size {yesterday.size} last seen" in (
            " ".join(result.checked))
        listed = client.get("/v1/audit/checkpoints").json()
        assert [c["tree_size"] for c in listed] == [yesterday.size, today.size]
        assert client.get(f"/v1/audit/checkpoints/{yesterday.size}").status_code == 200
    ledger.close()


def flip_a_byte(database_url: str, position: int, rng: random.Random) -> None:
    """Tamper with one stored event behind the ledger's back (triggers disabled)."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        conn.execute("DROP TRIGGER stored_events_refuse_update")
        (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = ?",
                                (position,)).fetchone()
        offset = rng.randrange(len(state))
        state = state[:offset] + bytes([state[offset] ^ 0x01]) + state[offset + 1:]
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state, position))
        conn.commit()
        conn.close()
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE ledger_events DISABLE TRIGGER ALL")
        (state,) = conn.execute("SELECT state FROM ledger_events WHERE notification_id = %s",
                                (position,)).fetchone()
        offset = rng.randrange(len(state))
        state = state[:offset] + bytes([state[offset] ^ 0x01]) + state[offset + 1:]
        conn.execute("UPDATE ledger_events SET state = %s WHERE notification_id = %s",
                     (state, position))


def test_a_flipped_byte_in_any_stored_event_fails_verify_naming_its_position(database_url, keys):
    signer, verifier = keys
    ledger = Ledger(database_url)
    setup_ccm(ledger)
    for code in ("LAO", "PER", "NOR", "AUT"):
        run(ledger, "register_party", code=code, name=code, kind="state")
    positions = [n.id for n in ledger.read_all()]
    ledger.close()
    checkpoint(database_url, signer)
    rng = random.Random(5)
    target = rng.randrange(len(positions))
    flip_a_byte(database_url, positions[target], rng)
    with client_for(database_url) as client:
        with pytest.raises(VerificationFailed) as failure:
            verify(LedgerURL(client), [verifier], None)
    assert failure.value.leaf_index == target, str(failure.value)
    assert f"{target}" in str(failure.value)


def test_truncated_reordered_and_rewritten_exports_fail(database_url, keys, tmp_path):
    signer, verifier = keys
    ccm_with_checkpoint(database_url, signer)
    ledger = Ledger(database_url)
    original = list(export_lines(ledger.read_all()))
    ledger.close()
    good = tmp_path / "good.ndjson"
    good.write_bytes(b"".join(original))
    witness = tmp_path / "witness.json"
    verify(ExportFile(good), [verifier], witness)

    size = len(original) - 2  # the checkpoint event and its receipt come after the tree it signs
    truncated = tmp_path / "truncated.ndjson"
    truncated.write_bytes(b"".join(original[:size - 3] + original[size:]))
    with pytest.raises(VerificationFailed, match="ends after|signed root"):
        verify(ExportFile(truncated), [verifier], None)

    reordered = tmp_path / "reordered.ndjson"
    swapped = original[:]
    swapped[2], swapped[3] = swapped[3], swapped[2]
    reordered.write_bytes(b"".join(swapped))
    with pytest.raises(VerificationFailed, match="signed root"):
        verify(ExportFile(reordered), [verifier], None)

    # rewrite an early event, extend the log and sign it again: the witness remembers
    record = orjson.loads(original[0])
    record["state"]["title"] = "A different treaty"
    rewritten = [orjson.dumps(record) + b"\n", *original[1:]]
    forged_url = f"sqlite:///{tmp_path}/forged.db"
    forged = Ledger(forged_url)
    forged.restore(read_export(rewritten))
    run(forged, "register_party", code="LAO", name="Lao PDR", kind="state")
    forged.close()
    checkpoint(forged_url, signer)
    forged = Ledger(forged_url)
    forged_file = tmp_path / "forged.ndjson"
    forged_file.write_bytes(b"".join(export_lines(forged.read_all())))
    forged.close()
    with pytest.raises(VerificationFailed, match="history was rewritten"):
        verify(ExportFile(forged_file), [verifier], witness)


def test_a_checkpoint_signed_by_another_key_is_refused(database_url, keys, tmp_path):
    signer, _ = keys
    _, stranger = signed_note.generate_key("stranger.example/log")
    ccm_with_checkpoint(database_url, signer)
    with client_for(database_url) as client:
        with pytest.raises(VerificationFailed, match="signature"):
            verify(LedgerURL(client), [stranger], None)


def export_of(database_url: str, path, fmt: str = "ndjson") -> list[bytes]:
    ledger = Ledger(database_url)
    lines = list(export_lines(ledger.read_all(), fmt))
    ledger.close()
    path.write_bytes(b"".join(lines))
    return lines


def test_a_cloudevents_export_verifies_like_the_ndjson_one(database_url, keys, tmp_path):
    signer, verifier = keys
    head = ccm_with_checkpoint(database_url, signer)
    export_of(database_url, tmp_path / "ledger.ndjson", "cloudevents")
    result = verify(ExportFile(tmp_path / "ledger.ndjson"), [verifier], None)
    assert (result.tree_size, result.root_hash) == (head.size, head.root_hash)
    assert result.state_digest.startswith("set-sha256:")
    assert "replayed read models give the signed state digest" in result.checked


def signed_with_digest(url: str, signer: str, digest: Callable[[Projector], str]) -> None:
    """Sign and record a checkpoint of the current tree whose state digest line is chosen."""
    with Projector(url) as projector:
        head = tree_head(projector)
        sign_and_record(projector, replace(head, state_digest=digest(projector)), signer,
                        "test.example/ledger")


def test_a_checkpoint_of_the_ordered_digest_issued_before_the_set_hash_still_verifies(
        database_url, keys, tmp_path):
    signer, verifier = keys
    ledger = Ledger(database_url)
    setup_ccm(ledger)
    ledger.close()
    signed_with_digest(database_url, signer, lambda p: f"sha256:{ordered_digest(p.view).sha256}")
    export_of(database_url, tmp_path / "ledger.ndjson")
    result = verify(ExportFile(tmp_path / "ledger.ndjson"), [verifier], None)
    assert result.state_digest.startswith("sha256:")
    assert "replayed read models give the signed state digest" in result.checked


@pytest.mark.parametrize(("signed", "refusal"), [
    (lambda head: head[:-1] + ("0" if head[-1] != "0" else "1"), "replaying the .* events gives"),
    (lambda head: head.replace("set-sha256:", "sha256:"), "replaying the .* events gives"),
    (lambda head: head.replace("set-sha256:", "blake3:"), "of a kind this version does not know"),
])
def test_a_checkpoint_whose_state_digest_is_not_the_replays_fails_verify(
        database_url, keys, tmp_path, signed, refusal):
    signer, verifier = keys
    ledger = Ledger(database_url)
    setup_ccm(ledger)
    ledger.close()
    signed_with_digest(database_url, signer, lambda p: signed(tree_head(p).state_digest))
    export_of(database_url, tmp_path / "ledger.ndjson")
    with pytest.raises(VerificationFailed, match=refusal):
        verify(ExportFile(tmp_path / "ledger.ndjson"), [verifier], None)


def change_recorded_by(line: bytes) -> bytes:
    """A valid event that says someone else recorded it: only the root can tell."""
    head, state = line.split(b'"state":', 1) if b'"state":' in line else line.split(b'"data":', 1)
    key = b'"state":' if b'"state":' in line else b'"data":'
    return head + key + state.replace(b'"recorded_by":"', b'"recorded_by":"X', 1)


@pytest.mark.parametrize("fmt", ["ndjson", "cloudevents"])
def test_a_changed_leaf_in_an_export_is_named_between_the_checkpoints_that_bracket_it(
        database_url, keys, tmp_path, fmt):
    signer, verifier = keys
    first = ccm_with_checkpoint(database_url, signer).size
    bad = tmp_path / "bad.ndjson"
    lines = export_of(database_url, bad, fmt)
    lines[3] = change_recorded_by(lines[3])
    bad.write_bytes(b"".join(lines))
    with pytest.raises(VerificationFailed, match="holds no earlier checkpoint, so it cannot say"):
        verify(ExportFile(bad), [verifier], None)

    second = checkpoint(database_url, signer).size  # two leaves on: the first's event and receipt
    ledger = Ledger(database_url)
    run(ledger, "register_party", code="LAO", name="Lao PDR", kind="state")
    ledger.close()
    third = checkpoint(database_url, signer).size
    lines = export_of(database_url, tmp_path / "good.ndjson", fmt)
    for target, bracket in ((second + 1, (second, third)), (first + 1, (first, second)),
                            (3, (0, first))):
        tampered = lines[:]
        tampered[target] = change_recorded_by(lines[target])
        bad.write_bytes(b"".join(tampered))
        with pytest.raises(VerificationFailed) as failure:
            verify(ExportFile(bad), [verifier], None)
        assert failure.value.bracket == bracket, str(failure.value)
        assert f"one of leaves {bracket[0]} to {bracket[1] - 1}" in str(failure.value)


def test_an_events_proof_bundle_checks_out_offline_and_a_changed_one_does_not(
        database_url, keys, tmp_path):
    signer, verifier = keys
    ccm_with_checkpoint(database_url, signer)
    ledger = Ledger(database_url)
    late = run(ledger, "register_party", code="LAO", name="Lao PDR", kind="state")
    ledger.close()
    with client_for(database_url) as client:
        with Projector(database_url) as projector:
            projector.catch_up()
        changes = client.get("/v1/changes", params={"kind": "InstrumentRegistered"}).json()
        row = changes["changes"][0]
        bundle = client.get(f"/v1/audit/proofs/{row['event_id']}.tlog-proof")
        assert bundle.status_code == 200 and bundle.text.startswith("c2sp.org/tlog-proof@v1\n")
        assert client.get(f"/v1/audit/proofs/{late.events[0]}.tlog-proof").status_code == 404
        unknown = client.get("/v1/audit/proofs/00000000-0000-4000-8000-000000000000.tlog-proof")
        assert unknown.status_code == 404
    (tmp_path / "event.tlog-proof").write_text(bundle.text)
    checked = subprocess.run([sys.executable, "-m", "api.cli", "verify-proof",
                              str(tmp_path / "event.tlog-proof"), "--key", verifier],
                             capture_output=True)
    assert checked.returncode == 0, checked.stderr.decode()
    assert f"event {row['event_id']}, InstrumentRegistered of" in checked.stdout.decode()

    lines = bundle.text.split("\n")
    lines[3] = base64.b64encode(bytes(32)).decode()  # one hash of the path changed
    (tmp_path / "changed.tlog-proof").write_text("\n".join(lines))
    refused = subprocess.run([sys.executable, "-m", "api.cli", "verify-proof",
                              str(tmp_path / "changed.tlog-proof"), "--key", verifier],
                             capture_output=True)
    assert refused.returncode == 1
    assert refused.stderr.decode().startswith("error: verification failed: leaf ")
