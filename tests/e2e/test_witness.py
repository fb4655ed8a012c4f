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
from audit.cosigning import Cosignatures, WitnessClient, WitnessConfig
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


def verifying(tmp_path: Path, log_key: str, *options: str) -> subprocess.Popen:
    """`ledger verify` started (several may run at once: each option list names its own
    --witness file)."""
    return subprocess.Popen([*LEDGER, "verify", "--key", log_key, *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def verified(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


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
            if number == OUTAGE.stop - 3:
                w2.start(log_key)  # it takes a while to start: meanwhile w1 goes on alone
            if number == OUTAGE.stop:
                w2.wait()
            note, _ = issue_checkpoint(projector, signer_key, ORIGIN)
            size = projector.audit.size() - 2  # the checkpoint event and its receipt follow it
            if number in OUTAGE:  # only w2's cosignature waits for w2
                outage_waits.append(cosigned.wait(size, note, {w1.name}, 5))
                assert number >= OUTAGE.stop - 3 or w2.name not in cosigned(size, note)
            else:  # w2 back: it catches up with a proof from the last size it cosigned
                cosigned.wait(size, note, both, 20)
        assert size == 2 * (CHECKPOINTS - 1)
        assert max(outage_waits) < 3, outage_waits  # w1 keeps its pace while w2 is down

        # verify accepts, from the URL and from an export beside the cosigned checkpoint
        (tmp_path / "ledger.ndjson").write_bytes(
            httpx.get(f"{served.base}/v1/export", params={"format": "cloudevents"}).content)
        (tmp_path / "checkpoint").write_text(httpx.get(f"{served.base}/checkpoint").text)
        quorum = ("--witness-key", w1.verifier, "--witness-key", w2.verifier, "--quorum", "2")
        from_url = verifying(tmp_path, log_key, "--url", served.base, "--witness",
                             str(tmp_path / "seen.json"), *quorum)
        from_export = verifying(tmp_path, log_key, "--export", str(tmp_path / "ledger.ndjson"),
                                "--checkpoint", str(tmp_path / "checkpoint"), "--witness",
                                str(tmp_path / "seen-export.json"), *quorum)
        for process in (from_url, from_export):
            code, out, err = verified(process)
            assert code == 0, err
            assert f"cosigned by 2 of 2 witnesses ({w1.name}, {w2.name}), quorum 2" in out
            assert f"verified {ORIGIN} at tree size {size}" in out

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
                monitored = httpx.get(  # what monitors read: the last checkpoint cosigned
                    f"{witness.url}/{hashlib.sha256(ORIGIN.encode()).hexdigest()}/checkpoint")
                assert signed_note.open_checkpoint(monitored.text, log_key).root_hash == root
                assert signed_note.cosigners(monitored.text, keys).keys() == {witness.verifier}
                with sqlite3.connect(witness.state) as state:
                    latest = state.execute("SELECT size, root FROM logs WHERE origin = ?",
                                           (ORIGIN,)).fetchone()
                    assert latest == (size, root)  # the forks moved nothing
                    with pytest.raises(sqlite3.IntegrityError, match="never goes backwards"):
                        state.execute("UPDATE logs SET size = 0")
                    with pytest.raises(sqlite3.IntegrityError, match="never forgets a log"):
                        state.execute("DELETE FROM logs")

        # a second history under the same key, as the ledger's own witness client sends it:
        # the witnesses hold a larger tree, so neither cosigns it and the fork stays uncosigned
        with Projector(f"sqlite:///{tmp_path}/fork.db") as fork:
            for _ in range(2):
                note, _ = issue_checkpoint(fork, signer_key, ORIGIN)
            cosignatures = Cosignatures(fork.view)
            for witness in (w1, w2):
                client = WitnessClient(WitnessConfig(witness.url, signed_note.parse_witness_key(
                    witness.verifier)), poll=0.05)
                try:
                    assert client.step(fork.view, fork.audit, cosignatures) >= 1  # backing off
                finally:
                    client.close()
                assert f"refused {ORIGIN} checkpoint at tree size 2: 409" in witness.log.read_text()
            assert cosignatures.lines(2) == []

        # below the quorum: w2 is gone when the next checkpoint is issued
        w2.kill()
        note, _ = issue_checkpoint(projector, signer_key, ORIGIN)
        cosigned.wait(size + 2, note, {w1.name}, 5)
        code, _, err = verified(verifying(tmp_path, log_key, "--url", served.base, "--witness",
                                          str(tmp_path / "seen.json"), *quorum))
        assert code == 1
        assert f"carries 1 valid cosignature(s) of the 2 witnesses given ({w1.name}); the " \
               "quorum is 2" in err
        served_note = httpx.get(f"{served.base}/checkpoint").text
        assert signed_note.cosigners(served_note, keys).keys() == {w1.verifier}
        assert signed_note.open_checkpoint(served_note, log_key).size == size + 2


def test_witness_keys_are_generated_as_secrets_and_never_mistaken_for_log_keys(
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
    mistaken = subprocess.run([*LEDGER, "witness", "serve", "--key", str(key_file), "--state",
                               str(tmp_path / "w.db"), "--log-key", printed.stdout.strip()],
                              capture_output=True, text=True)
    assert mistaken.returncode == 1
    assert mistaken.stderr.strip().endswith("where 0x01 is expected (a witness key?)")
    too_many = subprocess.run([*LEDGER, "verify", "--key", "k", "--url", "http://127.0.0.1:1",
                               "--witness-key", printed.stdout.strip(), "--quorum", "2"],
                              capture_output=True, text=True)
    assert too_many.returncode == 2 and "a quorum of 2 needs at least 2" in too_many.stderr
