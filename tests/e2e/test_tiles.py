"""The C2SP tlog-tiles read path over real HTTP: a client that knows only the verifier key and
the spec recomputes the signed root from tiles, checks every entry bundle against its level-0
tile and proves inclusion from tiles; tiles are immutable and the same bytes after a rebuild."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import httpx
import pytest

from audit import merkle, signed_note
from audit.tiles import HEIGHT, WIDTH, Tile
from tests.servers import serving

LEDGER = [sys.executable, "-m", "api.cli"]
IMMUTABLE = "public, max-age=31536000, immutable"
from tests.conftest import require
GO_CLIENT = Path(__file__).with_name("tlog_client.go")
GOPATH = Path("/usr/share/gocode")


class TileReader:
    """What a tlog-tiles client does: every tree node from the tiles of one checkpoint's tree."""

    def __init__(self, base: str, size: int) -> None:
        self.base, self.size = base, size
        self.tile_hashes = cache(self._tile_hashes)

    def tile(self, level: int, index: int) -> Tile:
        """The full tile if the tree has it, else the partial one of this tree's width."""
        full = Tile(level, index)
        return full if full.tree_size <= self.size else Tile(
            level, index, self.size // WIDTH ** level % WIDTH)

    def _tile_hashes(self, level: int, index: int) -> list[bytes]:
        response = httpx.get(f"{self.base}/{self.tile(level, index).path()}")
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == IMMUTABLE
        body = response.content
        return [body[i:i + 32] for i in range(0, len(body), 32)]

    def node(self, height: int, index: int) -> bytes:
        """The complete subtree at tree level `height`: hashed up from its tile's hashes."""
        level, below = divmod(height, HEIGHT)
        first = index << below
        hashes = self.tile_hashes(level, first // WIDTH)
        return merkle.root(hashes[first % WIDTH:first % WIDTH + (1 << below)])

    def range_hash(self, start: int, end: int) -> bytes:
        return merkle.range_hash_from_nodes(self.node, start, end)

    def entries(self, index: int) -> list[bytes]:
        response = httpx.get(f"{self.base}/{self.tile(0, index).path(entries=True)}")
        assert response.status_code == 200 and response.headers["cache-control"] == IMMUTABLE
        body, entries = response.content, []
        while body:
            length = int.from_bytes(body[:2], "big")
            entries.append(body[2:2 + length])
            body = body[2 + length:]
        return entries


def ledger_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "LEDGER_DATABASE_URL": database_url,
            "LEDGER_SIGNING_KEY_FILE": str(tmp_path / "signing.key")}


def demo_with_checkpoint(database_url: str, tmp_path: Path) -> str:
    """The demo log, signed: returns the verifier key."""
    env = ledger_env(database_url, tmp_path)
    subprocess.run([*LEDGER, "demo"], env=env, check=True, capture_output=True)
    verifier = subprocess.run([*LEDGER, "key", "generate"], env=env, check=True,
                              capture_output=True).stdout.decode().strip()
    subprocess.run([*LEDGER, "checkpoint"], env=env, check=True, capture_output=True)
    return verifier


@pytest.fixture(scope="module")
def go_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tlog_client.go built offline against Debian's golang.org/x/mod (make debian-packages)."""
    go = shutil.which("go")
    require(go is not None and (GOPATH / "src/golang.org/x/mod/sumdb/tlog").is_dir(),
            "Go and golang.org/x/mod are not installed: apt-get install golang-go "
            "golang-golang-x-mod-dev (`make debian-packages`)")
    folder = tmp_path_factory.mktemp("go")
    subprocess.run([go, "build", "-o", str(folder / "tlog_client"), str(GO_CLIENT)], check=True,
                   env={**os.environ, "GO111MODULE": "off", "GOPATH": str(GOPATH),
                        "GOCACHE": str(folder / "cache")},
                   capture_output=True, timeout=600)
    return folder / "tlog_client"


def test_tiles_served_over_http_verify_against_the_signed_checkpoint(database_url, tmp_path):
    verifier = demo_with_checkpoint(database_url, tmp_path)
    with serving(database_url) as server:
        response = httpx.get(f"{server.base}/checkpoint")
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=5"
        head = signed_note.open_checkpoint(response.text, [verifier])
        assert head.size > 2 * WIDTH  # full and partial tiles at level 0, a partial one at 1
        reader = TileReader(server.base, head.size)
        assert reader.range_hash(0, head.size) == head.root_hash

        leaves = [entry for n in range(-(-head.size // WIDTH)) for entry in reader.entries(n)]
        assert len(leaves) == head.size
        level0 = [h for n in range(-(-head.size // WIDTH)) for h in reader.tile_hashes(0, n)]
        assert [merkle.leaf_hash(leaf) for leaf in leaves] == level0
        entries = httpx.get(f"{server.base}/v1/audit/entries", params={"start": 0, "end": 10})
        assert entries.content.splitlines() == leaves[:10]  # the same leaf bytes as the JSON API

        for index in random.Random(14).sample(range(head.size), 20):
            proof = merkle.inclusion_path(reader.range_hash, index, head.size)
            assert merkle.verify_inclusion(merkle.leaf_hash(leaves[index]), index, head.size,
                                           proof, head.root_hash)


def test_tiles_are_immutable_and_the_same_bytes_after_a_rebuild(database_url, tmp_path):
    demo_with_checkpoint(database_url, tmp_path)
    paths = ["tile/0/000", "tile/0/003", "tile/1/000.p/4", "tile/entries/002",
             "tile/entries/004.p/3"]
    with serving(database_url) as server:
        before = [httpx.get(f"{server.base}/{path}") for path in paths]
        again = [httpx.get(f"{server.base}/{path}").content for path in paths]
        missing = [httpx.get(f"{server.base}/{path}") for path in (
            "tile/0/x000/004", "tile/0/000.p/256", "tile/64/000", "tile/0/x001/000",
            "tile/entries/x001/000")]
    assert [r.status_code for r in before] == [200] * len(paths)
    assert [r.content for r in before] == again
    assert [r.status_code for r in missing] == [404] * len(missing)
    assert all("cache-control" not in r.headers for r in missing)  # it may exist later

    rebuilt = subprocess.run([*LEDGER, "rebuild", "audit"], capture_output=True,
                             env={**os.environ, "LEDGER_DATABASE_URL": database_url})
    assert rebuilt.returncode == 0, rebuilt.stderr.decode()
    with serving(database_url) as server:
        after = [httpx.get(f"{server.base}/{path}").content for path in paths]
    assert after == again


def test_gos_sumdb_tlog_verifies_the_checkpoint_tiles_and_proofs_over_http(
        database_url, tmp_path, go_client):
    """Interoperability, not self-consistency: Go's sumdb/note and sumdb/tlog, reading tiles
    through their own tile reader, check the signature, the root, inclusion and consistency."""
    verifier = demo_with_checkpoint(database_url, tmp_path)
    env = ledger_env(database_url, tmp_path)
    with serving(database_url) as server:
        older = httpx.get(f"{server.base}/checkpoint").text
        for command in (["tick", "--now", "2031-01-01"], ["checkpoint"]):  # the log grows
            subprocess.run([*LEDGER, *command], env=env, check=True, capture_output=True)
        (tmp_path / "older.note").write_text(older)
        checked = subprocess.run([str(go_client), server.base, verifier,
                                  str(tmp_path / "older.note")], capture_output=True, timeout=120)
    output = checked.stdout.decode()
    assert checked.returncode == 0, checked.stderr.decode() + output
    assert "ok: the tiles hash to the signed root" in output
    assert "ok: 20 random entries are included" in output
    older_size = signed_note.open_checkpoint(older, [verifier]).size
    assert f"extends the tree of {older_size}\n" in output
