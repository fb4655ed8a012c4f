"""C2SP signed notes and tlog checkpoints: round trips, refusals, and published test vectors.

Sources of the test vectors (copied as data):
- golang/mod, sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen) and the
  package comment of sumdb/note/note.go: the PeterNeumann signer and verifier keys, the
  EnochRoot verifier key, the two-line text and its exact signed forms.
- golang/go, src/cmd/go/internal/modfetch/key.go: the verifier key of sum.golang.org.
- sigsum/sigsum, proposals/2026-01-22-tags-releases-non-releases.md: a signed tree head served by
  sum.golang.org (a real checkpoint in the same three-line format, origin "go.sum database tree").
- C2SP/C2SP, signed-note.md and tlog-checkpoint.md: the example note and checkpoint of the specs.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import signed_note
from audit.merkle import EMPTY_ROOT
from audit.signed_note import (
    AmbiguousKey,
    BadSignature,
    Checkpoint,
    MalformedCheckpoint,
    MalformedKey,
    MalformedNote,
    NoteError,
    Signer,
    UnknownKey,
    Verifier,
    format_checkpoint,
    generate_key,
    key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    verifier_key,
)

# golang/mod sumdb/note/note_test.go
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

# golang/go src/cmd/go/internal/modfetch/key.go
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
# sigsum/sigsum proposals/2026-01-22-tags-releases-non-releases.md (a sum.golang.org response)
SUMDB_CHECKPOINT = (
    "go.sum database tree\n"
    "49189689\n"
    "ftjbAOzaupaIvaPo/G+Dk63nxOZ2s1OPOKIaPtXs7S4=\n"
    "\n"
    "— sum.golang.org Az3grlKZssqRoMNPpZfKt0TphbbcF+pzXqElURJKRNFKfaUAgqeI5k2AORH0QAhg/ebRwyIqD/OqP4oLtLnNumvOBAM=\n"
)

# C2SP/C2SP tlog-checkpoint.md example (signed by a key the spec does not publish)
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
# C2SP/C2SP signed-note.md example: the text itself contains a blank line
SPEC_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

ROOT = hashlib.sha256(b"some root").digest()


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_key("ledger.example/log")


# --- keys --------------------------------------------------------------------------------------

def test_the_key_id_is_the_first_four_bytes_of_sha256_over_name_newline_type_and_key():
    verifier = parse_verifier_key(PETER_VKEY)
    digest = hashlib.sha256(b"PeterNeumann\n\x01" + verifier.public_key).digest()
    assert key_id("PeterNeumann", verifier.public_key) == int.from_bytes(digest[:4], "big") == 0xC74F20A3
    assert parse_verifier_key(SUMDB_VKEY).key_id == 0x033DE0AE
    assert parse_verifier_key(ENOCH_VKEY).key_id == 0xAF0CFE78


def test_the_published_signer_key_derives_the_published_verifier_key():
    signer = parse_signer_key(PETER_SKEY)
    assert signer.verifier.key_string() == PETER_VKEY
    assert signer.key_string() == PETER_SKEY
    assert verifier_key("PeterNeumann", signer.public_key) == PETER_VKEY


def test_a_verifier_key_whose_base64_contains_plus_signs_is_read_whole():
    verifier = parse_verifier_key(SUMDB_VKEY)
    assert verifier.name == "sum.golang.org" and verifier.key_string() == SUMDB_VKEY


def test_a_generated_key_pair_round_trips_through_its_strings(keys):
    skey, vkey = keys
    assert skey.startswith("PRIVATE+KEY+ledger.example/log+")
    signer, verifier = parse_signer_key(skey), parse_verifier_key(vkey)
    assert signer.verifier == verifier and signer.key_string() == skey
    assert f"{verifier.key_id:08x}" == vkey.split("+")[1]
    assert "PRIVATE" not in repr(signer) and skey.split("+", 4)[4] not in repr(signer)


@pytest.mark.parametrize("key", [PETER_VKEY, PETER_SKEY])
def test_every_truncation_or_one_byte_change_of_a_key_string_is_refused(key):
    # the manglings of golang/mod sumdb/note/note_test.go TestNewVerifier and TestNewSigner
    parse = parse_signer_key if key.startswith("PRIVATE") else parse_verifier_key
    manglings = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)} - {key}
    manglings |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1:] for i in range(len(key))}
    accepted = []
    for mangled in manglings:
        try:
            parse(mangled)
            accepted.append(mangled)
        except MalformedKey:
            pass
    assert accepted == []


@pytest.mark.parametrize("key", [
    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # key too long
    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown signature type
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in the name
    "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not 8 hex digits
])
def test_a_verifier_key_with_a_bad_length_type_name_or_id_is_refused(key):
    # the first two keys are from golang/mod sumdb/note/note_test.go TestNewVerifier
    with pytest.raises(MalformedKey):
        parse_verifier_key(key)


@pytest.mark.parametrize("name", ["", "a+b", "a b", "tab\there", "nbsp\u00a0here"])
def test_a_key_name_with_spaces_or_plus_signs_is_refused(name):
    with pytest.raises(MalformedKey):
        generate_key(name)


# --- notes -------------------------------------------------------------------------------------

def test_signing_with_the_published_key_gives_the_published_note():
    assert sign_note(TEXT, PETER_SKEY) == TEXT + "\n" + PETER_SIG


def test_the_published_doubly_signed_note_opens_with_either_key():
    signed = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(signed, [PETER_VKEY]) == TEXT
    assert open_note(signed, [ENOCH_VKEY]) == TEXT
    assert open_note(signed, [PETER_VKEY, ENOCH_VKEY]) == TEXT
    assert open_note(signed.encode(), PETER_VKEY) == TEXT


def test_the_published_sum_golang_org_checkpoint_verifies_and_parses():
    checkpoint = open_checkpoint(SUMDB_CHECKPOINT, [SUMDB_VKEY])
    assert checkpoint == Checkpoint(
        "go.sum database tree", 49189689, base64.b64decode("ftjbAOzaupaIvaPo/G+Dk63nxOZ2s1OPOKIaPtXs7S4="))
    assert checkpoint.body() + "\n" + SUMDB_CHECKPOINT.split("\n\n")[1] == SUMDB_CHECKPOINT


def test_a_checkpoint_signed_here_round_trips(keys):
    skey, vkey = keys
    body = format_checkpoint("ledger.example/log", 42, ROOT, ["state sha256:abc"])
    signed = sign_note(body, skey)
    assert signed.startswith(body + "\n\u2014 ledger.example/log ")
    assert open_note(signed, [vkey]) == body
    expected = Checkpoint("ledger.example/log", 42, ROOT, ("state sha256:abc",))
    assert open_checkpoint(signed, [vkey]) == expected


def test_a_note_can_carry_several_signatures_and_unknown_ones_are_ignored(keys):
    skey, vkey = keys
    other_skey, other_vkey = generate_key("witness.example")
    signed = sign_note(TEXT, skey, other_skey)
    assert open_note(signed, [vkey]) == TEXT
    assert open_note(signed, [other_vkey]) == TEXT


def test_a_tampered_body_fails_with_bad_signature(keys):
    skey, vkey = keys
    signed = sign_note(format_checkpoint("ledger.example/log", 42, ROOT), skey)
    with pytest.raises(BadSignature):
        open_note(signed.replace("\n42\n", "\n43\n"), [vkey])
    with pytest.raises(BadSignature):
        open_note(TEXT.replace("problem", "Problem", 1) + "\n" + PETER_SIG, [PETER_VKEY])


def test_a_corrupted_signature_from_a_known_key_rejects_the_whole_note():
    # golang/mod sumdb/note/note_test.go TestOpen "Invalid signature"
    corrupted = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(BadSignature):
        open_note(TEXT + "\n" + corrupted, [PETER_VKEY])
    with pytest.raises(BadSignature):
        open_note(TEXT + "\n" + ENOCH_SIG + corrupted, [PETER_VKEY, ENOCH_VKEY])


def test_a_note_signed_by_another_key_fails_with_unknown_key(keys):
    _, vkey = keys
    other_skey, _ = generate_key("ledger.example/log")  # same name, different key and key ID
    with pytest.raises(UnknownKey):
        open_note(sign_note(TEXT, other_skey), [vkey])
    with pytest.raises(UnknownKey):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])


def test_a_signature_sharing_only_the_key_id_of_a_known_key_is_ignored():
    # The tlog-checkpoint example carries key ID 033de0ae, that of sum.golang.org, under another
    # name: the spec says to ignore it rather than fail verification.
    assert parse_note(SPEC_CHECKPOINT).signatures[0].key_id == 0x033DE0AE
    with pytest.raises(UnknownKey):
        open_note(SPEC_CHECKPOINT, [SUMDB_VKEY])


def test_the_spec_examples_parse_and_the_text_ends_at_the_last_blank_line():
    note = parse_note(SPEC_NOTE)
    assert note.text == SPEC_NOTE[:SPEC_NOTE.rindex("\n\n") + 1]
    assert "\n\ned è subito sera.\n" in note.text
    assert note.signatures[0].name == "quasimodo.example/salvatore"
    checkpoint = parse_checkpoint(parse_note(SPEC_CHECKPOINT).text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert len(checkpoint.root_hash) == 32


def test_two_different_trusted_keys_with_the_same_name_and_id_are_refused():
    peter = parse_verifier_key(PETER_VKEY)
    impostor = Verifier(peter.name, peter.key_id, bytes(32))
    with pytest.raises(AmbiguousKey):
        open_note(TEXT + "\n" + PETER_SIG, [peter, impostor])
    assert open_note(TEXT + "\n" + PETER_SIG, [peter, peter, PETER_VKEY]) == TEXT


@pytest.mark.parametrize("signed", [
    # golang/mod sumdb/note/note_test.go TestOpen "Invalid encoded message syntax"
    TEXT,
    TEXT + "\n",
    TEXT + "\n" + PETER_SIG[:-1],
    "\x01" + TEXT + "\n" + PETER_SIG,
    b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
    TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
    TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    TEXT + "\n" + PETER_SIG * 101,  # too many signatures
    # and a few more
    TEXT + "\n" + PETER_SIG.replace("\u2014", "-"),
    TEXT + "\n" + PETER_SIG.replace("\u2014 ", "\u2014"),
    TEXT + "\n" + "— PeterNeumann AAAA\n",  # shorter than a key ID and one byte
    TEXT + "\n" + "— PeterNeumann x08go/ZJkuBS9UG=!\n",  # not base64
    TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG,
    "\n\n" + PETER_SIG,  # empty text
    "\ud800" + TEXT + "\n" + PETER_SIG,  # not encodable as UTF-8
])
def test_a_malformed_note_is_refused_with_malformed_note(signed):
    with pytest.raises(MalformedNote):
        open_note(signed, [PETER_VKEY])


def test_every_refusal_is_a_note_error():
    for error in (MalformedNote, MalformedCheckpoint, MalformedKey, UnknownKey, BadSignature, AmbiguousKey):
        assert issubclass(error, NoteError) and issubclass(error, ValueError)


@pytest.mark.parametrize("text", ["", "no newline", "\n", "tab\tinside\n"])
def test_text_that_cannot_be_signed_is_refused(text, keys):
    with pytest.raises(MalformedNote):
        sign_note(text, keys[0])


def test_a_malformed_signer_key_is_refused_when_signing():
    with pytest.raises(MalformedKey):
        sign_note(TEXT, PETER_VKEY)
    assert isinstance(parse_signer_key(PETER_SKEY), Signer)


# --- checkpoints -------------------------------------------------------------------------------

def test_a_checkpoint_body_has_origin_size_and_base64_root_lines():
    assert format_checkpoint("example.com/log", 0, EMPTY_ROOT) == (
        "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
    assert format_checkpoint("o", 7, ROOT, ("ext one", "ext two")).endswith("\next one\next two\n")


@pytest.mark.parametrize("body", [
    "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",  # no final newline
    "example.com/log\n0\n",  # no root line
    "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",  # empty origin
    "example.com/log\n007\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",  # leading zeros
    "example.com/log\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
    "example.com/log\n+1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
    "example.com/log\n1_000\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
    "example.com/log\n\u0661\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",  # Arabic-Indic digit one
    "example.com/log\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF=\n",  # bad padding
    "example.com/log\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n",  # non-canonical last bits
    "example.com/log\n1\nAAAA\n",  # not 32 bytes
    "example.com/log\n1\n47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=\n",  # URL-safe alphabet
    "example.com/log\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",  # empty extension line
])
def test_a_malformed_checkpoint_body_is_refused(body):
    with pytest.raises(MalformedCheckpoint):
        parse_checkpoint(body)


@pytest.mark.parametrize(("origin", "size", "root", "extensions"), [
    ("", 1, ROOT, ()),
    ("a\nb", 1, ROOT, ()),
    ("o", -1, ROOT, ()),
    ("o", True, ROOT, ()),
    ("o", 1, ROOT[:31], ()),
    ("o", 1, ROOT, ("",)),
    ("o", 1, ROOT, ("two\nlines",)),
])
def test_a_checkpoint_that_cannot_be_written_faithfully_is_refused(origin, size, root, extensions):
    with pytest.raises(MalformedCheckpoint):
        format_checkpoint(origin, size, root, extensions)


def test_a_checkpoint_parses_back_to_what_was_formatted():
    checkpoint = Checkpoint("ledger.example/log", 1_000_000, ROOT, ("a", "b c"))
    assert parse_checkpoint(checkpoint.body()) == checkpoint


# --- cosignatures (c2sp.org/tlog-cosignature, cosignature/v1) ----------------------------------

def test_a_cosignature_signs_the_timestamped_checkpoint_body_under_a_type_4_key() -> None:
    log, witness = Signer("example.com/log", bytes(32)), Signer("w.example/w1", bytes(range(32)),
                                                                signed_note.COSIGNATURE_V1)
    body = signed_note.format_checkpoint("example.com/log", 2, EMPTY_ROOT)
    line = signed_note.cosign(body, witness, 1679315147)
    payload = base64.b64decode(line.split(" ")[2])
    assert witness.key_id == int.from_bytes(hashlib.sha256(
        b"w.example/w1\n\x04" + witness.public_key).digest()[:4], "big")
    assert payload[:4] == witness.key_id.to_bytes(4, "big")
    assert payload[4:12] == (1679315147).to_bytes(8, "big")
    message = b"cosignature/v1\ntime 1679315147\n" + body.encode()
    Ed25519PublicKey.from_public_bytes(witness.public_key).verify(payload[12:], message)
    cosigned = signed_note.sign_note(body, log) + line
    vkey = witness.verifier.key_string()
    assert signed_note.cosigners(cosigned, [vkey]) == {vkey: 1679315147}
    assert signed_note.open_checkpoint(cosigned, log.verifier.key_string()).size == 2


def test_a_witness_key_never_passes_for_a_log_key_nor_a_log_key_for_a_witness_key() -> None:
    signer, vkey = signed_note.generate_key("w.example/w1", signed_note.COSIGNATURE_V1)
    log_signer, log_vkey = signed_note.generate_key("example.com/log")
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    with pytest.raises(MalformedKey, match="a witness key"):
        signed_note.parse_verifier_key(vkey)
    with pytest.raises(MalformedKey):
        signed_note.parse_witness_key(log_vkey)
    with pytest.raises(MalformedKey):
        signed_note.parse_signer_key(signer)
    body = signed_note.format_checkpoint("example.com/log", 0, EMPTY_ROOT)
    witness = signed_note.parse_signer_key(signer, signed_note.COSIGNATURE_V1)
    only_cosigned = body + "\n" + signed_note.cosign(body, witness, 1)
    with pytest.raises(UnknownKey):
        signed_note.open_note(only_cosigned, log_vkey)
    assert signed_note.cosigners(signed_note.sign_note(body, log_signer), [vkey]) == {}


def test_a_cosignature_with_another_timestamp_or_checkpoint_is_refused() -> None:
    witness = Signer("w.example/w1", bytes(32), signed_note.COSIGNATURE_V1)
    body = signed_note.format_checkpoint("example.com/log", 0, EMPTY_ROOT)
    line = signed_note.cosign(body, witness, 100)
    name, encoded = line[2:].split(" ")
    payload = bytearray(base64.b64decode(encoded))
    payload[11] ^= 1  # the timestamp is signed
    forged = f"\u2014 {name} {base64.b64encode(bytes(payload)).decode()}\n"
    log = Signer("example.com/log", bytes(32))
    with pytest.raises(BadSignature):
        signed_note.cosigners(signed_note.sign_note(body, log) + forged, [witness.verifier])
    other = signed_note.format_checkpoint("example.com/log", 1, EMPTY_ROOT)
    with pytest.raises(BadSignature):
        signed_note.cosigners(signed_note.sign_note(other, log) + line, [witness.verifier])
    with pytest.raises(MalformedKey):
        signed_note.cosign(body, witness, 0)  # the spec forbids a zero timestamp
