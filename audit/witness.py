"""A C2SP tlog-witness (https://c2sp.org/tlog-witness): it cosigns a log's checkpoint only once
a consistency proof shows that it extends the last checkpoint it cosigned for that origin, so
that readers who ask for witnesses' cosignatures cannot be shown a forked or rolled-back log.

State is one SQLite file with a row per origin: checked and advanced in one write transaction
(never two requests at once), never moved to a smaller tree and never deleted (triggers refuse
both), and written to disk before the cosignature is answered."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from audit import merkle, signed_note

log = logging.getLogger("ledger.witness")

MAX_BODY = 128 * 1024
MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"
_OLD = re.compile(r"old (0|[1-9][0-9]*)")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS logs (origin TEXT PRIMARY KEY, size INTEGER NOT NULL, "
    "root BLOB NOT NULL, checkpoint TEXT NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS logs_never_shrink BEFORE UPDATE ON logs "
    "WHEN NEW.size < OLD.size OR NEW.origin != OLD.origin "
    "BEGIN SELECT RAISE(ABORT, 'a witness never goes backwards'); END",
    "CREATE TRIGGER IF NOT EXISTS logs_never_forgotten BEFORE DELETE ON logs "
    "BEGIN SELECT RAISE(ABORT, 'a witness never forgets a log'); END",
)


class Refused(Exception):
    """The witness will not cosign: the spec's HTTP status, why, and (409) the size it knows."""

    def __init__(self, status: int, reason: str, known_size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.known_size = known_size


@dataclass(frozen=True)
class Request:
    """An add-checkpoint request body, parsed."""

    old: int
    proof: tuple[bytes, ...]
    checkpoint: str  # the signed note, verbatim


def request_body(old: int, proof: Sequence[bytes], checkpoint: str) -> bytes:
    """The add-checkpoint body: the old size line, one base64 hash a line, a blank line, the
    signed checkpoint."""
    lines = [f"old {old}", *(base64.b64encode(node).decode() for node in proof)]
    return ("".join(f"{line}\n" for line in lines) + "\n" + checkpoint).encode()


def parse_request(body: bytes) -> Request:
    """Read an add-checkpoint body, refusing (400) anything request_body would not write."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the body is not UTF-8") from None
    head, blank, checkpoint = text.partition("\n\n")
    lines = head.split("\n")
    old = _OLD.fullmatch(lines[0])
    if not blank or old is None or len(lines) - 1 > MAX_PROOF_LINES:
        raise Refused(400, "the body is an old size line, at most 63 proof lines, a blank line "
                           "and a checkpoint")
    try:
        proof = tuple(base64.b64decode(line, validate=True) for line in lines[1:])
    except binascii.Error:
        raise Refused(400, "a proof line is not base64") from None
    if any(len(node) != merkle.HASH_SIZE for node in proof):
        raise Refused(400, f"every proof line is a {merkle.HASH_SIZE}-byte hash")
    return Request(int(old.group(1)), proof, checkpoint)


class WitnessState:
    """The last checkpoint cosigned per origin, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            for statement in SCHEMA:
                connection.execute(statement)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA synchronous=FULL")  # on disk before the cosignature leaves
        return connection

    def latest(self, origin: str) -> tuple[int, bytes, str] | None:
        """Size, root and signed note of the last checkpoint cosigned for origin."""
        connection = self._connect()
        try:
            return connection.execute("SELECT size, root, checkpoint FROM logs WHERE origin = ?",
                                      (origin,)).fetchone()
        finally:
            connection.close()

    def advance(self, request: Request, checkpoint: signed_note.Checkpoint) -> None:
        """Check the request against the stored checkpoint and store the new one, atomically;
        Refused (409, 422) when it does not extend what was cosigned before."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            row = connection.execute("SELECT size, root FROM logs WHERE origin = ?",
                                     (checkpoint.origin,)).fetchone()
            size, root = row if row else (0, merkle.EMPTY_ROOT)
            if request.old != size:
                raise Refused(409, f"old size {request.old} is not the size of the last "
                                   f"checkpoint cosigned, {size}", size)
            _check_consistency(request, size, root, checkpoint)
            connection.execute(
                "INSERT INTO logs (origin, size, root, checkpoint) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
                "checkpoint = excluded.checkpoint",
                (checkpoint.origin, checkpoint.size, checkpoint.root_hash, request.checkpoint))
            connection.execute("COMMIT")
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            connection.close()


def _check_consistency(request: Request, size: int, root: bytes,
                       checkpoint: signed_note.Checkpoint) -> None:
    """422 unless the checkpoint extends the tree of `size` leaves and `root`."""
    if request.old == 0 and request.proof:
        raise Refused(422, "a proof from the empty tree must be empty")
    if checkpoint.size == size and checkpoint.root_hash != root:
        raise Refused(422, f"a different root at tree size {size} than the one cosigned: "
                           "the log forked")
    if not merkle.verify_consistency(size, checkpoint.size, root, checkpoint.root_hash,
                                     request.proof):
        raise Refused(422, f"the consistency proof from tree size {size} does not verify: "
                           "the log forked or rewrote history")


class Witness:
    """Cosigns checkpoints of the logs it knows (origin: the log's verifier keys)."""

    def __init__(self, cosigner: signed_note.Signer, logs: dict[str, list[signed_note.Verifier]],
                 state: WitnessState) -> None:
        self.cosigner = cosigner
        self.logs = logs
        self.state = state

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line of a checkpoint that extends the last one cosigned, else
        Refused with the spec's status; every refusal of a known log is logged, naming it."""
        request = parse_request(body)
        try:
            note = signed_note.parse_note(request.checkpoint)
            checkpoint = signed_note.parse_checkpoint(note.text)
        except signed_note.NoteError as error:
            raise Refused(400, f"not a checkpoint: {error}") from None
        keys = self.logs.get(checkpoint.origin)
        if keys is None:
            raise Refused(404, f"unknown log {checkpoint.origin!r}")
        try:
            signed_note.open_note(request.checkpoint, keys)
        except signed_note.NoteError as error:
            raise Refused(403, f"not signed by the log's key: {error}") from None
        try:
            if request.old > checkpoint.size:
                raise Refused(400, f"old size {request.old} is above the checkpoint's size")
            if checkpoint.size == 0 and checkpoint.root_hash != merkle.EMPTY_ROOT:
                raise Refused(422, "an empty tree with a root other than SHA-256 of nothing")
            self.state.advance(request, checkpoint)
        except Refused as refused:
            log.warning("refused %s checkpoint at tree size %d: %d %s", checkpoint.origin,
                        checkpoint.size, refused.status, refused, extra={"fields": {
                            "origin": checkpoint.origin, "tree_size": checkpoint.size,
                            "old": request.old, "status": refused.status,
                            "checkpoint": request.checkpoint}})
            raise
        log.info("cosigned %s at tree size %d", checkpoint.origin, checkpoint.size)
        return signed_note.cosign(note.text, self.cosigner, int(time.time()))

    def monitored(self, origin_hash: str) -> str | None:
        """The last checkpoint cosigned for the origin whose SHA-256 is origin_hash, with the
        log's signatures and this witness's cosignature (for monitors)."""
        for origin in self.logs:
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                latest = self.state.latest(origin)
                if latest is None:
                    return None
                note = signed_note.parse_note(latest[2])
                return latest[2] + signed_note.cosign(note.text, self.cosigner, int(time.time()))
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the spec asks clients and witnesses to use
    witness: Witness

    def do_POST(self) -> None:  # noqa: N802 (the http.server API)
        if self.path.rstrip("/").rsplit("/", 1)[-1] != "add-checkpoint":
            return self._answer(404, "only add-checkpoint is submitted here\n")
        declared = self.headers.get("Content-Length", "").strip()
        length = int(declared) if declared.isdecimal() else -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return self._answer(413 if length > MAX_BODY else 411, "a body of known size, "
                                f"at most {MAX_BODY} bytes\n")
        try:
            self._answer(200, self.witness.add_checkpoint(self.rfile.read(length)))
        except Refused as refused:
            if refused.known_size is not None:
                return self._answer(409, f"{refused.known_size}\n", SIZE_TYPE)
            self._answer(refused.status, f"{refused}\n")

    def do_GET(self) -> None:  # noqa: N802
        parts = self.path.strip("/").split("/")
        note = self.witness.monitored(parts[-2]) if parts[-1:] == ["checkpoint"] and \
            len(parts) >= 2 else None
        if note is None:
            return self._answer(404, "no checkpoint cosigned for that origin hash\n")
        self._answer(200, note)

    def _answer(self, status: int, text: str, content_type: str = "text/plain; charset=utf-8",
                ) -> None:
        body = text.encode()
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Refusals and cosignatures are logged by the witness; requests are not."""


def serve(witness: Witness, host: str, port: int, stop: threading.Event) -> None:
    """Answer add-checkpoint requests (and monitors' reads) until `stop` is set."""
    handler = type("Handler", (_Handler,), {"witness": witness})
    with ThreadingHTTPServer((host, port), handler) as server:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="witness", daemon=True)
        thread.start()
        stop.wait()
        server.shutdown()


def add_checkpoint(client: httpx.Client, url: str, old: int, proof: Iterable[bytes],
                   checkpoint: str) -> httpx.Response:
    """POST a checkpoint to the witness whose submission prefix is url."""
    return client.post(url.rstrip("/") + "/add-checkpoint",
                       content=request_body(old, list(proof), checkpoint))
