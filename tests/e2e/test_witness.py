"""Witnesses over real HTTP (C2SP tlog-witness, tlog-cosignature): two `ledger witness serve`
processes cosign a served ledger's log as it grows through 100 checkpoints, `ledger verify`
holds the checkpoint to a quorum of them, every witness refuses a forked log with the spec's
status code and names it in its log, and a killed witness delays only its own cosignatures."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from audit import signed_note
from audit.checkpoints import issue_checkpoint
from audit.cosigning import Cosignatures
from audit.witness import MAX_BODY, SIZE_TYPE, add_checkpoint
from projections.runner import Projector
from tests.servers import free_port, serving, wait_until_answering

LEDGER = [sys.executable, "-m", "api.cli"]
ORIGIN = "ledger.test/witnessed"
CHECKPOINTS = 100
OUTAGE = range(40, 55)  # witness 2 is killed for these checkpoints, then restarted


@dataclass
class WitnessProcess:
    name: str
    url: str
    key_file: Path
    state: Path
    log: Path
    verifier: str
    process: subprocess.Popen | None = None

    def start(self, log_key: str) -> WitnessProcess:
        """Start it (again) on its key and state file."""
        port = self.url.rsplit(":", 1)[1]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*LEDGER, "witness", "serve", "--key", str(self.key_file), "--state",
                 str(self.state), "--log-key", log_key, "--port", port],
                stdout=subprocess.DEVNULL, stderr=log)
        return self

    def wait(self) -> None:
        """Until it answers (any answer)."""

        def alive() -> None:
            assert self.process.poll() is None, self.log.read_text()

        wait_until_answering(self.url, alive)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def witnesses(tmp_path: Path, log_key: str) -> Iterator[list[WitnessProcess]]:
    """Two witness processes, each on its own port and state file (started, not yet waited)."""
    started = []
    try:
        for number in (1, 2):
            name, key_file = f"witness.test/w{number}", tmp_path / f"w{number}.key"
            signer, verifier = signed_note.generate_key(name, signed_note.COSIGNATURE_V1)
            key_file.write_text(signer + "\n")
            started.append(WitnessProcess(
                name, f"http://127.0.0.1:{free_port()}", key_file, tmp_path / f"w{number}.db",
                tmp_path / f"w{number}.log", verifier).start(log_key))
        yield started
    finally:
        for witness in started:
            if witness.process.poll() is None:
                witness.process.terminate()
                witness.process.wait(timeout=10)


class Cosigned:
    """Which witnesses have cosigned a checkpoint, read where the ledger keeps cosignatures."""

    def __init__(self, projector: Projector, keys: list[str]) -> None:
        self.store, self.keys = Cosignatures(projector.view), keys

    def __call__(self, size: int, note: str) -> set[str]:
        lines = "".join(self.store.lines(size))
        return {key.split("+", 1)[0] for key in signed_note.cosigners(note + lines, self.keys)}

    def wait(self, size: int, note: str, names: set[str], within: float) -> float:
        """Seconds until the checkpoint of `size` carries the cosignatures of `names`."""
        start = time.monotonic()
        while not names <= self(size, note):
            assert time.monotonic() - start < within, \
                f"tree size {size}: cosigned by {self(size, note)}, not {names}"
            time.sleep(0.01)
        return time.monotonic() - start


def verify(base: str, tmp_path: Path, log_key: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([*LEDGER, "verify", "--url", base, "--key", log_key, "--witness",
                           str(tmp_path / "seen.json"), *options], capture_output=True, text=True)


def checkpoint_note(signer: signed_note.Signer, size: int, root: bytes) -> str:
    return signed_note.sign_note(signed_note.format_checkpoint(ORIGIN, size, root), signer)


def test_two_witnesses_cosign_a_growing_log_and_refuse_its_forks(
    database_url: str, tmp_path: Path,
) -> None:
    signer_key, log_key = signed_note.generate_key(ORIGIN)
    signer = signed_note.parse_signer_key(signer_key)
    (tmp_path / "signing.key").write_text(signer_key + "\n")
    with witnesses(tmp_path, log_key) as (w1, w2), serving(
        database_url, signing_key_file=str(tmp_path / "signing.key"), origin=ORIGIN,
        poll_interval="0.05",
        witnesses=",".join(f"{w.url} {w.verifier}" for w in (w1, w2)),
    ) as served, Projector(database_url) as projector:
        w1.wait()
        w2.wait()
        keys, both = [w1.verifier, w2.verifier], {w1.name, w2.name}
        cosigned = Cosigned(projector, keys)
        outage_waits = []
        for number in range(CHECKPOINTS):
            if number == OUTAGE.start:
                w2.kill()
            if number == OUTAGE.stop:
                w2.start(log_key).wait()
            note, _ = issue_checkpoint(projector, signer_key, ORIGIN)
            size = projector.audit.size() - 2  # the checkpoint event and its receipt follow it
            if number in OUTAGE:  # only w2's cosignature waits for w2
                outage_waits.append(cosigned.wait(size, note, {w1.name}, 5))
                assert w2.name not in cosigned(size, note)
            else:  # w2 back: it catches up with a proof from the last size it cosigned
                cosigned.wait(size, note, both, 20)
        assert size == 2 * (CHECKPOINTS - 1)
        assert max(outage_waits) < 3, outage_waits  # w1 keeps its pace while w2 is down

        accepted = verify(served.base, tmp_path, log_key, "--witness-key", w1.verifier,
                          "--witness-key", w2.verifier, "--quorum", "2")
        assert accepted.returncode == 0, accepted.stderr
        assert f"cosigned by 2 of 2 witnesses ({w1.name}, {w2.name}), quorum 2" in accepted.stdout
        # the same from an export, against the cosigned checkpoint fetched beside it
        (tmp_path / "ledger.ndjson").write_bytes(
            httpx.get(f"{served.base}/v1/export", params={"format": "cloudevents"}).content)
        (tmp_path / "checkpoint").write_text(httpx.get(f"{served.base}/checkpoint").text)
        from_export = subprocess.run(
            [*LEDGER, "verify", "--export", str(tmp_path / "ledger.ndjson"), "--checkpoint",
             str(tmp_path / "checkpoint"), "--key", log_key, "--witness-key", w1.verifier,
             "--witness-key", w2.verifier, "--witness", str(tmp_path / "seen.json")],
            capture_output=True, text=True)
        assert from_export.returncode == 0, from_export.stderr
        assert f"at tree size {size}" in from_export.stdout and "quorum 2" in from_export.stdout

        # a forked log: every witness refuses it with the spec's status and names it in its log
        root, smaller = projector.audit.root(size), projector.audit.root(size - 2)
        other = hashlib.sha256(b"another history").digest()
        forks = [  # (old size, proof, checkpoint, status)
            (size, [], checkpoint_note(signer, size, other), 422),
            (size, [other] * 3, checkpoint_note(signer, size + 2, other), 422),
            (size - 2, [], checkpoint_note(signer, size - 2, smaller), 409),
            (size, [], checkpoint_note(signer, size - 2, smaller), 400),
        ]
        stranger = signed_note.Signer(ORIGIN, os.urandom(32))
        unknown = signed_note.generate_key("elsewhere.test/log")[0]
        with httpx.Client() as client:
            for witness in (w1, w2):
                for old, proof, fork, status in forks:
                    answer = add_checkpoint(client, witness.url, old, proof, fork)
                    assert answer.status_code == status, (witness.name, old, answer.text)
                    if status == 409:
                        assert answer.headers["content-type"] == SIZE_TYPE
                        assert answer.text == f"{size}\n"
                answer = add_checkpoint(client, witness.url, 0, [], signed_note.sign_note(
                    signed_note.format_checkpoint("elsewhere.test/log", 0, root), unknown))
                assert answer.status_code == 404
                answer = add_checkpoint(client, witness.url, size, [],
                                        checkpoint_note(stranger, size, root))
                assert answer.status_code == 403
                for body, status in ((b"old 1\nnot base64\n\n", 400), (b"\xff", 400),
                                     (b"x" * (MAX_BODY + 1), 413)):
                    answer = client.post(f"{witness.url}/add-checkpoint", content=body)
                    assert answer.status_code == status, (body[:20], answer.text)
                logged = witness.log.read_text()
                for status, tree_size in ((422, size), (422, size + 2), (409, size - 2)):
                    assert f"refused {ORIGIN} checkpoint at tree size {tree_size}: {status}" \
                        in logged, witness.name
                with sqlite3.connect(witness.state) as state:
                    latest = state.execute("SELECT size, root FROM logs WHERE origin = ?",
                                           (ORIGIN,)).fetchone()
                    assert latest == (size, root)  # the forks moved nothing
                    with pytest.raises(sqlite3.IntegrityError, match="never goes backwards"):
                        state.execute("UPDATE logs SET size = 0")
                    with pytest.raises(sqlite3.IntegrityError, match="never forgets a log"):
                        state.execute("DELETE FROM logs")

        # below the quorum: w2 is gone when the next checkpoint is issued
        w2.kill()
        note, _ = issue_checkpoint(projector, signer_key, ORIGIN)
        cosigned.wait(size + 2, note, {w1.name}, 5)
        refused = verify(served.base, tmp_path, log_key, "--witness-key", w1.verifier,
                         "--witness-key", w2.verifier, "--quorum", "2")
        assert refused.returncode == 1
        assert f"carries 1 valid cosignature(s) of the 2 witnesses given ({w1.name}); the " \
               "quorum is 2" in refused.stderr
        served_note = httpx.get(f"{served.base}/checkpoint").text
        assert signed_note.cosigners(served_note, keys).keys() == {w1.verifier}
        assert signed_note.open_checkpoint(served_note, log_key).size == size + 2


def test_witness_key_generate_writes_a_secret_and_prints_a_cosignature_key(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "w.key"
    printed = subprocess.run([*LEDGER, "witness", "key", "generate", "--name", "w.test/w",
                              "--output", str(key_file)], capture_output=True, text=True)
    assert printed.returncode == 0, printed.stderr
    verifier = signed_note.parse_witness_key(printed.stdout.strip())
    cosigner = signed_note.parse_signer_key(key_file.read_text().strip(),
                                            signed_note.COSIGNATURE_V1)
    assert cosigner.verifier == verifier and key_file.stat().st_mode & 0o777 == 0o600
    with pytest.raises(signed_note.MalformedKey, match="a witness key"):
        signed_note.parse_verifier_key(printed.stdout.strip())  # never taken for a log key
    again = subprocess.run([*LEDGER, "witness", "key", "generate", "--name", "w.test/w",
                            "--output", str(key_file)], capture_output=True, text=True)
    assert again.returncode == 1 and "exists" in again.stderr
