"""C2SP tlog-tiles paths and entry bundles, against the examples the spec itself gives."""

from __future__ import annotations

import pytest

from audit.tiles import WIDTH, Tile, bundle, format_index, parse_tile


def test_indexes_are_written_in_three_digit_elements_as_the_spec_shows():
    assert format_index(1234067) == "x001/x234/067"
    assert format_index(0) == "000"
    assert format_index(1000) == "x001/000"
    assert Tile(0, 1234067).path() == "tile/0/x001/x234/067"
    assert Tile(2, 5, 17).path() == "tile/2/005.p/17"
    assert Tile(0, 5, 3).path(entries=True) == "tile/entries/005.p/3"


@pytest.mark.parametrize("tile", [Tile(0, 0), Tile(1, 1234067), Tile(63, 999, 1),
                                  Tile(5, 1000, 255)])
def test_every_path_reads_back_as_its_tile(tile):
    level, rest = tile.path().removeprefix("tile/").split("/", 1)
    assert parse_tile(level, rest) == tile


@pytest.mark.parametrize("level, rest", [
    ("0", "x000/005"),  # a leading zero element
    ("0", "5"), ("0", "0005"), ("0", "x001"), ("0", "001/234"),  # not 3-digit elements
    ("0", "000.p/256"), ("0", "000.p/0"), ("0", "000.p/07"),  # widths are 1..255
    ("01", "000"), ("64", "000"), ("-1", "000"), ("x", "000"),  # levels are 0..63
])
def test_paths_the_spec_does_not_write_name_no_tile(level, rest):
    assert parse_tile(level, rest) is None


def test_a_tree_of_70000_has_the_tiles_the_spec_lists():
    """273 full level-0 tiles, a partial of 112, one full level-1 tile, a partial level-1 tile of
    17 and a partial level-2 tile of 1."""
    size = 70_000
    full = [[n for n in range(300) if Tile(level, n).tree_size <= size] for level in range(3)]
    assert [len(tiles) for tiles in full] == [273, 1, 0]
    partial = {level: size // WIDTH ** level % WIDTH for level in range(3)}
    assert partial == {0: 112, 1: 17, 2: 1}
    assert Tile(0, 273, 112).tree_size == size
    assert Tile(1, 1, 17).tree_size <= size < Tile(1, 1, 18).tree_size
    assert Tile(2, 0, 1).tree_size <= size < Tile(2, 0, 2).tree_size


def test_an_entry_bundle_prefixes_each_entry_with_its_length():
    packed = b"\x00\x02ab" + b"\x00\x00" + b"\x01\x2c" + b"x" * 300
    assert bundle([b"ab", b"", b"x" * 300]) == packed
    with pytest.raises(ValueError, match="longer than a bundle can hold"):
        bundle([b"x" * 65536])
