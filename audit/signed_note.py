"""C2SP signed notes with Ed25519 keys, and the tlog checkpoints carried in them.

Formats (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint), compatible with Go's
golang.org/x/mod/sumdb/note:

* a signed note is the text (UTF-8, ending in a newline, no control characters but newline), a
  blank line, then one or more lines ``— <key name> <base64(key ID || signature)>`` (U+2014 and a
  space); the signature covers the text including its final newline; the text is separated from
  the signatures by the *last* blank line, so the text itself may contain blank lines;
* key names are non-empty and contain no Unicode space and no ``+``;
* key ID = the first 4 bytes, big-endian, of SHA-256(name || 0x0A || 0x01 || 32-byte Ed25519
  public key), 0x01 being the signed-note signature type of Ed25519;
* a verifier key is ``<name>+<8 hex digits of key ID>+<base64(0x01 || public key)>`` and a signer
  key, as Go's note package writes it, ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``;
* a checkpoint body is ``<origin>\\n<tree size in decimal>\\n<base64 root hash>\\n`` followed by
  optional non-empty extension lines.

Cosignatures (https://c2sp.org/tlog-cosignature, cosignature/v1) are note signatures of type
0x04 by a witness: the key ID is computed as above with 0x04, and the signature is an 8-byte
big-endian timestamp followed by the Ed25519 signature of ``cosignature/v1\\ntime <timestamp>\\n``
and the checkpoint body. Their keys are written with 0x04 in place of 0x01;
:func:`parse_verifier_key` and :func:`parse_signer_key` accept only the type asked for, so a
witness key can never pass for a log key.

Verification follows the spec: signatures from unknown (name, key ID) pairs are ignored, a known
key whose signature fails rejects the whole note (:class:`BadSignature`), and a note with no
signature from a known key is rejected (:class:`UnknownKey`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16; Go's note package stops at 100
ROOT_HASH_SIZE = 32

_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """Any refusal to sign, parse or trust a note, a key or a checkpoint."""


class MalformedNote(NoteError):
    """The text is not a syntactically valid signed note."""


class MalformedCheckpoint(MalformedNote):
    """The note text is not a valid tlog checkpoint body."""


class MalformedKey(NoteError):
    """A signer or verifier key string cannot be decoded or its key ID does not match."""


class UnknownKey(NoteError):
    """No signature on the note comes from a known key."""


class BadSignature(NoteError):
    """A signature claims a known key but does not verify."""


class AmbiguousKey(NoteError):
    """Two different trusted keys share both name and key ID, so a signature cannot be attributed."""


# --- keys --------------------------------------------------------------------------------------

def is_valid_key_name(name: str) -> bool:
    """Non-empty, no Unicode space, no plus, no control character."""
    return bool(name) and "+" not in name and not any(ch.isspace() or ch < " " for ch in name)


def key_id(name: str, public_key: bytes, signature_type: int = ED25519) -> int:
    """The recommended key ID: SHA-256(name || 0x0A || type || public key), first 4 bytes big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise ValueError(f"not standard base64: {error}") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Verifier:
    """A trusted Ed25519 public key under a name; parse_verifier_key checks the key ID."""

    name: str
    key_id: int
    public_key: bytes
    signature_type: int = ED25519

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes,
                        signature_type: int = ED25519) -> Verifier:
        """Build a verifier with the key ID derived as the spec recommends."""
        if not is_valid_key_name(name):
            raise MalformedKey(f"invalid key name {name!r}")
        if len(public_key) != 32:
            raise MalformedKey(f"an Ed25519 public key is 32 bytes, not {len(public_key)}")
        return cls(name, key_id(name, public_key, signature_type), bytes(public_key),
                   signature_type)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when signature is this key's signature of the note text `message` (for a
        cosignature: its timestamp, then the signature of the timestamped message)."""
        if self.signature_type == COSIGNATURE_V1:
            if len(signature) != 8 + 64:
                return False
            message = cosigned_message(message, int.from_bytes(signature[:8], "big"))
            signature = signature[8:]
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def key_string(self) -> str:
        """The shareable ``<name>+<hex id>+<base64(type || key)>`` form."""
        encoded = _b64(bytes([self.signature_type]) + self.public_key)
        return f"{self.name}+{self.key_id:08x}+{encoded}"


class Signer:
    """A named Ed25519 private key; deliberately has no repr that shows the seed."""

    __slots__ = ("name", "key_id", "signature_type", "_private")

    def __init__(self, name: str, seed: bytes, signature_type: int = ED25519) -> None:
        if not is_valid_key_name(name):
            raise MalformedKey(f"invalid key name {name!r}")
        if len(seed) != 32:
            raise MalformedKey(f"an Ed25519 seed is 32 bytes, not {len(seed)}")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.name = name
        self.signature_type = signature_type
        self.key_id = key_id(name, self.public_key, signature_type)

    def __repr__(self) -> str:
        return f"Signer({self.name!r}, key_id={self.key_id:08x})"

    @property
    def public_key(self) -> bytes:
        return self._private.public_key().public_bytes_raw()

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, self.public_key, self.signature_type)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def key_string(self) -> str:
        """The secret ``PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>`` form."""
        encoded = _b64(bytes([self.signature_type]) + self._private.private_bytes_raw())
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{encoded}"


def generate_key(name: str, signature_type: int = ED25519) -> tuple[str, str]:
    """A fresh (signer key string, verifier key string) pair for the named key."""
    signer = Signer(name, Ed25519PrivateKey.generate().private_bytes_raw(), signature_type)
    return signer.key_string(), signer.verifier.key_string()


def verifier_key(name: str, public_key: bytes) -> str:
    """The verifier key string of a raw 32-byte Ed25519 public key."""
    return Verifier.from_public_key(name, public_key).key_string()


def _decode_typed_key(name: str, hex_id: str, encoded: str, signature_type: int) -> bytes:
    if not is_valid_key_name(name) or not _HEX_KEY_ID.fullmatch(hex_id):
        raise MalformedKey("malformed key name or key ID")
    try:
        raw = _b64decode(encoded)
    except ValueError as error:
        raise MalformedKey(str(error)) from None
    if len(raw) != 33:
        raise MalformedKey(f"an Ed25519 key is 1 + 32 bytes, not {len(raw)}")
    if raw[0] != signature_type:
        raise MalformedKey(f"signature type 0x{raw[0]:02x} where 0x{signature_type:02x} is "
                           f"expected" + (" (a witness key?)" if raw[0] == COSIGNATURE_V1 else ""))
    return raw[1:]


def parse_verifier_key(text: str, signature_type: int = ED25519) -> Verifier:
    """Decode ``<name>+<hex id>+<base64(type || public key)>``, checking the key ID."""
    name, _, rest = text.partition("+")
    hex_id, _, encoded = rest.partition("+")
    public_key = _decode_typed_key(name, hex_id, encoded, signature_type)
    verifier = Verifier.from_public_key(name, public_key, signature_type)
    if verifier.key_id != int(hex_id, 16):
        raise MalformedKey(f"key ID {hex_id} does not match the key of {name}")
    return verifier


def parse_signer_key(text: str, signature_type: int = ED25519) -> Signer:
    """Decode ``PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>``, checking the key ID."""
    parts = text.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise MalformedKey("a signer key starts with PRIVATE+KEY+")
    _, _, name, hex_id, encoded = parts
    signer = Signer(name, _decode_typed_key(name, hex_id, encoded, signature_type),
                    signature_type)
    if signer.key_id != int(hex_id, 16):
        raise MalformedKey(f"key ID {hex_id} does not match the key of {name}")
    return signer


# --- notes -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NoteSignature:
    """One signature line, not yet verified."""

    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True)
class Note:
    """A parsed signed note: its text (with the final newline) and its signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...]


def _check_characters(text: str) -> None:
    if any(ch < " " and ch != "\n" for ch in text):
        raise MalformedNote("a note may contain no control character but newline")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedNote("a note must be valid UTF-8") from None


def _check_text(text: str) -> None:
    _check_characters(text)
    if not text.endswith("\n") or not text.strip("\n"):
        raise MalformedNote("note text must be non-empty and end in a newline")


def parse_note(signed: str | bytes) -> Note:
    """Split a signed note into text and signature lines, checking syntax only."""
    if isinstance(signed, bytes):
        try:
            signed = signed.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNote("a note must be valid UTF-8") from None
    _check_characters(signed)
    split = signed.rfind("\n\n")
    if split < 0:
        raise MalformedNote("no blank line before the signatures")
    text, block = signed[:split + 1], signed[split + 2:]
    _check_text(text)
    if not block.endswith("\n"):
        raise MalformedNote("the signature block must end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedNote(f"not a signature line: {line[:40]!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
        try:
            raw = _b64decode(encoded)
        except ValueError:
            raise MalformedNote(f"signature of {name!r} is not base64") from None
        if not is_valid_key_name(name) or len(raw) < 5:
            raise MalformedNote(f"malformed signature line for {name!r}")
        signatures.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return Note(text, tuple(signatures))


def _signer(key: str | Signer) -> Signer:
    return key if isinstance(key, Signer) else parse_signer_key(key)


def sign_note(text: str, signer_key: str | Signer, *more_signer_keys: str | Signer) -> str:
    """Sign text (ending in a newline) with one or more keys and return the signed note."""
    _check_text(text)
    message = text.encode("utf-8")
    lines = []
    for signer in map(_signer, (signer_key, *more_signer_keys)):
        payload = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {_b64(payload)}\n")
    return text + "\n" + "".join(lines)


VerifierKeys = Iterable[str | Verifier] | str | Verifier
"""Trusted keys: verifier key strings or Verifier objects, one or many."""


def _trusted(verifier_keys: VerifierKeys) -> dict[tuple[str, int], Verifier]:
    if isinstance(verifier_keys, (str, Verifier)):
        verifier_keys = [verifier_keys]
    trusted: dict[tuple[str, int], Verifier] = {}
    for key in verifier_keys:
        verifier = key if isinstance(key, Verifier) else parse_verifier_key(key)
        slot = (verifier.name, verifier.key_id)
        if trusted.setdefault(slot, verifier) != verifier:
            raise AmbiguousKey(f"two different keys are named {verifier.name}+{verifier.key_id:08x}")
    return trusted


def verified_by(signed: str | bytes, verifier_keys: VerifierKeys,
                ) -> tuple[Note, list[tuple[Verifier, NoteSignature]]]:
    """The note and each known key's signature on it, all verified (maybe none)."""
    note = parse_note(signed)
    trusted = _trusted(verifier_keys)
    message = note.text.encode("utf-8")
    verified = []
    for signature in note.signatures:
        verifier = trusted.get((signature.name, signature.key_id))
        if verifier is None:
            continue  # unknown keys are ignored, even if they share a name or an ID with a known one
        if not verifier.verify(message, signature.signature):
            raise BadSignature(f"invalid signature for key {signature.name}+{signature.key_id:08x}")
        verified.append((verifier, signature))
    return note, verified


def open_note(signed: str | bytes, verifier_keys: VerifierKeys) -> str:
    """Return the text of a signed note once a trusted key's signature on it verifies."""
    note, verified = verified_by(signed, verifier_keys)
    if not verified:
        raise UnknownKey("the note has no signature from a known key")
    return note.text


# --- cosignatures ------------------------------------------------------------------------------

def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: a header line, a timestamp line, the checkpoint body."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


def cosign(text: str, cosigner: Signer, timestamp: int) -> str:
    """A witness's cosignature line on a checkpoint body, as of `timestamp` (POSIX seconds)."""
    if cosigner.signature_type != COSIGNATURE_V1 or not 0 < timestamp < 2**63:
        raise MalformedKey("a cosignature needs a cosignature/v1 key and a positive timestamp")
    signature = cosigner.sign(cosigned_message(text.encode("utf-8"), timestamp))
    payload = cosigner.key_id.to_bytes(4, "big") + timestamp.to_bytes(8, "big") + signature
    return f"{SIGNATURE_PREFIX}{cosigner.name} {_b64(payload)}\n"


def parse_witness_key(text: str) -> Verifier:
    """A witness's cosignature/v1 verifier key, ``<name>+<hex id>+<base64(0x04 || key)>``."""
    return parse_verifier_key(text, COSIGNATURE_V1)


def cosigners(signed: str | bytes, witness_keys: Iterable[str | Verifier]) -> dict[str, int]:
    """The witnesses (by verifier key) whose cosignatures on the note verify, with their
    timestamps; a known witness's cosignature that fails rejects the note (BadSignature)."""
    keys = [key if isinstance(key, Verifier) else parse_witness_key(key) for key in witness_keys]
    _, verified = verified_by(signed, keys)
    return {verifier.key_string(): int.from_bytes(signature.signature[:8], "big")
            for verifier, signature in verified}


# --- checkpoints -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: who (origin), how many leaves (size), and the RFC 6962 root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The note text to sign."""
        return format_checkpoint(self.origin, self.size, self.root_hash, self.extensions)


def _check_line(value: str, what: str) -> None:
    if not isinstance(value, str) or not value or any(ch < " " for ch in value):
        raise MalformedCheckpoint(f"the {what} must be a non-empty line without control characters")


def format_checkpoint(origin: str, size: int, root_hash: bytes, extensions: Iterable[str] = ()) -> str:
    """The checkpoint note text: origin, decimal size, base64 root, then extension lines."""
    _check_line(origin, "origin")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise MalformedCheckpoint(f"tree size must be a non-negative integer, not {size!r}")
    if len(root_hash) != ROOT_HASH_SIZE:
        raise MalformedCheckpoint(f"root hash must be {ROOT_HASH_SIZE} bytes, not {len(root_hash)}")
    extensions = tuple(extensions)
    for line in extensions:
        _check_line(line, "extension line")
    return "".join(f"{line}\n" for line in (origin, str(size), _b64(bytes(root_hash)), *extensions))


def parse_checkpoint(body: str) -> Checkpoint:
    """Read a checkpoint note text back, refusing anything format_checkpoint would not write."""
    if not body.endswith("\n"):
        raise MalformedCheckpoint("a checkpoint ends in a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpoint("a checkpoint has an origin, a size and a root hash line")
    origin, size, root, *extensions = lines
    _check_line(origin, "origin")
    for line in extensions:
        _check_line(line, "extension line")
    if not _TREE_SIZE.fullmatch(size):
        raise MalformedCheckpoint(f"tree size {size!r} is not a decimal without leading zeros")
    try:
        root_hash = _b64decode(root)
    except ValueError:
        raise MalformedCheckpoint("root hash is not base64") from None
    if len(root_hash) != ROOT_HASH_SIZE or _b64(root_hash) != root:
        raise MalformedCheckpoint(f"root hash must be the canonical base64 of {ROOT_HASH_SIZE} bytes")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


def open_checkpoint(signed: str | bytes, verifier_keys: VerifierKeys) -> Checkpoint:
    """Verify a signed checkpoint and parse its body."""
    return parse_checkpoint(open_note(signed, verifier_keys))
