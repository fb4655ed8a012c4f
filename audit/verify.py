"""Offline verification for auditors: from an export file or a ledger's URL, recompute the tree,
check the checkpoint's signature, check it extends the last checkpoint this auditor saw, and
replay the events to recompute the state digest. Nothing here trusts the ledger's own tables."""

from __future__ import annotations

import base64
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import orjson

from audit import merkle, signed_note
from ledger.commands import Ledger
from ledger.errors import InvalidValue
from ledger.exchange import export_line, read_export
from projections.digest import ordered_digest, recomputed_digest
from projections.runner import Projector
from projections.store import NAME

#: a checkpoint's extension line `state-digest <kind>:<hex>`; the kinds `ledger verify` checks
DIGEST_LINE = "state-digest "
DIGESTS = {"set-sha256": recomputed_digest, "sha256": ordered_digest}
CHECKPOINT_LEAF = b'"type":"CheckpointIssued"'
CLOUDEVENTS_DATA = b',"data":'


class VerificationFailed(Exception):
    """The log does not match what was signed; `leaf_index` names the first bad leaf if known,
    else `bracket` the (good, bad) tree sizes between which it lies, if known."""

    def __init__(self, message: str, leaf_index: int | None = None,
                 bracket: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.leaf_index = leaf_index
        self.bracket = bracket


@dataclass
class Verified:
    origin: str
    tree_size: int
    root_hash: bytes
    #: `<kind>:<hex>` as the checkpoint signed it (empty if it signed none)
    state_digest: str
    checked: list[str] = field(default_factory=list)


class Source(ABC):
    """Where the leaves and the checkpoint come from."""

    @abstractmethod
    def lines(self) -> Iterator[bytes]:
        """Leaf bytes in order."""

    @abstractmethod
    def checkpoint(self) -> str:
        """The signed checkpoint to verify against."""

    #: whether `consistency` can answer: verify then keeps every leaf hash, to bisect with proofs
    proves = False

    def consistency(self, first: int, second: int) -> list[bytes] | None:
        """A consistency proof from the ledger, where the source can ask for one."""
        return None

    def checkpoints(self) -> list[str]:
        """Earlier signed checkpoints the source holds, to narrow down a bad leaf without proofs."""
        return []


class ExportFile(Source):
    """An export in either format: each line stands for the leaf bytes of its event."""

    def __init__(self, path: Path, checkpoint: str | None = None) -> None:
        self.path = path
        self._notes: list[str] | None = None
        self._checkpoint = checkpoint  # one fetched apart, e.g. with its cosignatures

    def lines(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            for index, line in enumerate(line for line in handle if line.strip()):
                yield leaf_line(index, line.rstrip(b"\n"))

    def checkpoints(self) -> list[str]:
        """Every checkpoint recorded in the export, oldest first (read once)."""
        if self._notes is None:
            self._notes = [note for line in self.lines() if CHECKPOINT_LEAF in line
                           if (note := _signed_note(line)) is not None]
        return self._notes

    def checkpoint(self) -> str:
        """The checkpoint given, else the newest one recorded in the export itself."""
        if self._checkpoint is not None:
            return self._checkpoint
        notes = self.checkpoints()
        if not notes:
            raise VerificationFailed("the export holds no checkpoint to verify against")
        return notes[-1]


def _signed_note(line: bytes) -> str | None:
    """The note a CheckpointIssued leaf carries, or None if the line is too damaged to say."""
    try:
        note = orjson.loads(line)["state"]["signed_note"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return note if isinstance(note, str) else None


def leaf_line(index: int, line: bytes) -> bytes:
    """The leaf bytes an export line stands for: the line itself in NDJSON, and for a CloudEvents
    line the NDJSON line of the same event, its data copied byte for byte (never re-serialised)."""
    if not line.startswith(b'{"specversion"'):
        return line
    try:
        stored = next(read_export([line]))
    except InvalidValue as error:
        raise VerificationFailed(f"leaf {index} is not a valid event: {error}", index) from None
    start = line.find(CLOUDEVENTS_DATA)
    if start >= 0 and line.endswith(b"}"):  # data is the last member, as the export writes it
        stored = replace(stored, state=line[start + len(CLOUDEVENTS_DATA):-1])
    return export_line(stored)[:-1]


class LedgerURL(Source):
    proves = True

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def lines(self) -> Iterator[bytes]:
        start = 0
        while True:
            response = self.client.get("/v1/audit/entries", params={"start": start})
            response.raise_for_status()
            batch = response.content.splitlines()
            if not batch:
                return
            yield from batch
            start += len(batch)

    def checkpoint(self) -> str:
        response = self.client.get("/v1/audit/checkpoint")
        response.raise_for_status()
        return response.text

    def consistency(self, first: int, second: int) -> list[bytes] | None:
        response = self.client.get("/v1/audit/proofs/consistency",
                                   params={"first": first, "second": second})
        if response.status_code != 200:
            return None
        return [base64.b64decode(h) for h in response.json()["hashes"]]


def verify(
    source: Source, verifier_keys: list[str], witness: Path | None,
    on_leaf: Callable[[int], Any] | None = None, witness_keys: list[str] = (), quorum: int = 0,
) -> Verified:
    """Every check in order; the first failure raises VerificationFailed."""
    note = source.checkpoint()
    try:
        checkpoint = signed_note.open_checkpoint(note, verifier_keys)
    except signed_note.NoteError as error:
        raise VerificationFailed(f"the checkpoint's signature does not verify: {error}") from None
    size, expected_root = checkpoint.size, checkpoint.root_hash
    digests = [e[len(DIGEST_LINE):] for e in checkpoint.extensions if e.startswith(DIGEST_LINE)]
    result = Verified(checkpoint.origin, size, expected_root, digests[0] if digests else "")
    result.checked.append(f"signature of {checkpoint.origin} checkpoint at tree size {size}")
    if quorum:
        result.checked.append(check_quorum(note, witness_keys, quorum))

    signed_roots = _earlier_roots(source, verifier_keys, size)
    seen = _load_witness(witness).get(checkpoint.origin) if witness is not None else None
    wanted = set(signed_roots) | ({seen["size"]} if seen else set())
    prefix_roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    leaf_hashes: list[bytes] = []  # only where a bisection with proofs may need them
    compact = merkle.CompactRange()
    for index, line in enumerate(source.lines()):
        if index == size:
            break
        _check_line(index, line)
        leaf = merkle.leaf_hash(line)
        if source.proves:
            leaf_hashes.append(leaf)
        compact.append(leaf)
        if compact.size in wanted:
            prefix_roots[compact.size] = compact.root()
        if on_leaf is not None:
            on_leaf(index + 1)
    if compact.size < size:
        raise VerificationFailed(
            f"the log ends after {compact.size} leaves; the checkpoint covers {size}", compact.size)
    if compact.root() != expected_root:
        if source.proves and source.consistency(1, size) is not None:
            bad = _first_bad_leaf(source, leaf_hashes, size, expected_root)
            raise VerificationFailed(
                f"the leaves do not hash to the signed root; the first leaf that differs is {bad}",
                bad)
        raise _bracketed(signed_roots, prefix_roots, size)
    result.checked.append(f"the {size} leaves hash to the signed root")

    if witness is not None:
        result.checked.append(_check_witness(witness, checkpoint, prefix_roots))

    if result.state_digest:
        kind = result.state_digest.partition(":")[0]
        if kind not in DIGESTS:
            raise VerificationFailed(
                f"the checkpoint's state digest is of a kind this version does not know: {kind}")
        replayed = f"{kind}:{replay_digest(islice(source.lines(), size), kind)}"
        if replayed != result.state_digest:
            raise VerificationFailed(
                f"replaying the {size} events gives state digest {replayed}, "
                f"the checkpoint says {result.state_digest}")
        result.checked.append("replayed read models give the signed state digest")
    if witness is not None:
        _save_witness(witness, checkpoint)
    return result


def check_quorum(note: str, witness_keys: list[str], quorum: int) -> str:
    """At least `quorum` of the given witnesses cosigned the checkpoint; say which did."""
    try:
        cosigned = signed_note.cosigners(note, witness_keys)
    except signed_note.NoteError as error:
        raise VerificationFailed(f"a witness's cosignature does not verify: {error}") from None
    names = ", ".join(key.split("+", 1)[0] for key in cosigned) or "none"
    if len(cosigned) < quorum:
        raise VerificationFailed(
            f"the checkpoint carries {len(cosigned)} valid cosignature(s) of the "
            f"{len(witness_keys)} witnesses given ({names}); the quorum is {quorum}")
    return (f"cosigned by {len(cosigned)} of {len(witness_keys)} witnesses ({names}), "
            f"quorum {quorum}")


def _check_line(index: int, line: bytes) -> None:
    """A leaf must at least be a well-formed export line whose id and time agree with its state."""
    try:
        list(read_export([line]))
    except InvalidValue as error:
        raise VerificationFailed(f"leaf {index} is not a valid event: {error}", index) from None


def _earlier_roots(source: Source, verifier_keys: list[str], size: int) -> dict[int, bytes]:
    """The roots signed by earlier checkpoints the source holds (an export's), by tree size;
    checkpoints that no given key verifies are left out."""
    roots = {}
    for note in source.checkpoints():
        try:
            earlier = signed_note.open_checkpoint(note, verifier_keys)
        except signed_note.NoteError:
            continue
        if 0 < earlier.size < size:
            roots[earlier.size] = earlier.root_hash
    return roots


def _bracketed(signed: dict[int, bytes], computed: dict[int, bytes], size: int,
               ) -> VerificationFailed:
    """The failure naming the first bad leaf as closely as the earlier checkpoints bracket it: it
    lies after the largest prefix whose signed root still matches, and before the smallest that
    does not (checkpoints are at least two leaves apart: their own event and receipt)."""
    bad = min((s for s in signed if computed.get(s) != signed[s]), default=size)
    good = max((s for s in signed if s < bad), default=0)
    message = "the leaves do not hash to the signed root"
    if good == 0 and bad == size:
        return VerificationFailed(
            f"{message}; the export holds no earlier checkpoint, so it cannot say which of the "
            f"{size} leaves differs (verify from the ledger's URL names it)")
    why = (f"the checkpoint at tree size {good} matches, the one at {bad} does not" if good
           else f"the earliest checkpoint, at tree size {bad}, does not match")
    return VerificationFailed(
        f"{message}; the first leaf that differs is one of leaves {good} to {bad - 1} ({why}; "
        f"an export holds nothing to narrow it further: verify from the ledger's URL names it)",
        bracket=(good, bad))


def _first_bad_leaf(source: Source, leaf_hashes: list[bytes], size: int, root: bytes) -> int:
    """Bisect with the ledger's consistency proofs: the largest prefix of our leaves that the
    signed root still vouches for ends just before the first bad leaf."""
    good, bad = 0, size  # prefix `good` verified, prefix `bad` known not to
    while bad - good > 1:
        middle = (good + bad) // 2
        proof = source.consistency(middle, size) or []
        if merkle.verify_consistency(middle, size, merkle.root(leaf_hashes[:middle]), root, proof):
            good = middle
        else:
            bad = middle
    return bad - 1


def _check_witness(path: Path, checkpoint: Any, prefix_roots: dict[int, bytes]) -> str:
    """Compare with the checkpoint the witness file kept (`prefix_roots` holds the root of the
    leaves up to its size); say what was checked."""
    if not path.exists():
        return f"{path} created: it keeps this checkpoint to compare the next run with"
    seen = _load_witness(path).get(checkpoint.origin)
    if seen is None:
        return f"{path} held no checkpoint of {checkpoint.origin}: it keeps this one from now on"
    size, root = seen["size"], base64.b64decode(seen["root"])
    if size > checkpoint.size:
        raise VerificationFailed(
            f"the log shrank: a checkpoint at tree size {size} was seen before, now {checkpoint.size}")
    if prefix_roots.get(size) != root:
        raise VerificationFailed(
            f"the first {size} leaves no longer hash to the root seen before: history was rewritten")
    return f"consistent with the checkpoint at tree size {size} last seen ({path})"


def _load_witness(path: Path) -> dict[str, Any]:
    return orjson.loads(path.read_bytes()) if path.exists() else {}


def _save_witness(path: Path, checkpoint: Any) -> None:
    seen = _load_witness(path)
    seen[checkpoint.origin] = {"size": checkpoint.size,
                               "root": base64.b64encode(checkpoint.root_hash).decode()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(seen, option=orjson.OPT_INDENT_2))


def replay_digest(lines: Iterable[bytes], kind: str) -> str:
    """Restore the events into a scratch SQLite store, project them as a rebuild does (in bulk,
    the state read model only), and digest the rows of the result (hex, of the digest `kind`):
    memory stays flat at any size."""
    with tempfile.TemporaryDirectory(prefix="ledger-verify-") as folder:
        url = f"sqlite:///{folder}/replay.db"
        ledger = Ledger(url)
        try:
            ledger.restore(read_export(lines))
        finally:
            ledger.close()
        with Projector(url) as projector:
            projector.rebuild((NAME,))
            return DIGESTS[kind](projector.view).sha256
