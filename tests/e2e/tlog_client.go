// An independent tlog-tiles client for tests/e2e/test_tiles.py: Go's golang.org/x/mod/sumdb/note
// and sumdb/tlog (Debian's golang-golang-x-mod-dev) read the ledger's /checkpoint and tiles over
// HTTP, verify the signature, recompute the root, and check inclusion of random entries and the
// consistency of an older checkpoint. Build offline: GO111MODULE=off GOPATH=/usr/share/gocode.
//
// Usage: tlog_client BASE_URL VERIFIER_KEY OLDER_CHECKPOINT_FILE
package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

// tiles reads C2SP tlog-tiles over HTTP for sumdb/tlog, whose paths carry the tile height
// (tile/8/L/N, tile/8/data/N) where C2SP's do not (tile/L/N, tile/entries/N).
type tiles struct{ base string }

func (tiles) Height() int { return height }

func (r tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(ts))
	for i, t := range ts {
		body, err := get(r.base + "/" + c2spPath(t))
		if err != nil {
			return nil, err
		}
		data[i] = body
	}
	return data, nil
}

func (tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func c2spPath(t tlog.Tile) string {
	path := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", height))
	if strings.HasPrefix(path, "data/") {
		path = "entries/" + strings.TrimPrefix(path, "data/")
	}
	return "tile/" + path
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, err
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// openCheckpoint verifies a signed checkpoint and reads its size and root (tlog.ParseTree
// reads only the go.sum database's own origin line).
func openCheckpoint(signed []byte, verifiers note.Verifiers) tlog.Tree {
	n, err := note.Open(signed, verifiers)
	must(err)
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	must(err)
	root, err := base64.StdEncoding.DecodeString(lines[2])
	must(err)
	tree := tlog.Tree{N: size}
	copy(tree.Hash[:], root)
	return tree
}

// entry reads leaf n from its entry bundle: big-endian uint16 lengths, each before its entry.
func entry(base string, tree tlog.Tree, n int64) []byte {
	bundle := tlog.Tile{H: height, L: -1, N: n / 256, W: 256}
	if (bundle.N+1)*256 > tree.N {
		bundle.W = int(tree.N % 256)
	}
	body, err := get(base + "/" + c2spPath(bundle))
	must(err)
	for i := int64(0); ; i++ {
		size := int(body[0])<<8 | int(body[1])
		if i == n%256 {
			return body[2 : 2+size]
		}
		body = body[2+size:]
	}
}

func main() {
	base, key, olderFile := os.Args[1], os.Args[2], os.Args[3]
	verifier, err := note.NewVerifier(key)
	must(err)
	verifiers := note.VerifierList(verifier)
	signed, err := get(base + "/checkpoint")
	must(err)
	tree := openCheckpoint(signed, verifiers)
	fmt.Printf("ok: signature of the checkpoint at tree size %d\n", tree.N)

	reader := tlog.TileHashReader(tree, tiles{base})
	root, err := tlog.TreeHash(tree.N, reader)
	must(err)
	if root != tree.Hash {
		must(fmt.Errorf("the tiles hash to %v, the checkpoint says %v", root, tree.Hash))
	}
	fmt.Println("ok: the tiles hash to the signed root")

	random := rand.New(rand.NewSource(14))
	for i := 0; i < 20; i++ {
		n := random.Int63n(tree.N)
		proof, err := tlog.ProveRecord(tree.N, n, reader)
		must(err)
		must(tlog.CheckRecord(proof, tree.N, tree.Hash, n, tlog.RecordHash(entry(base, tree, n))))
	}
	fmt.Println("ok: 20 random entries are included")

	olderSigned, err := os.ReadFile(olderFile)
	must(err)
	older := openCheckpoint(olderSigned, verifiers)
	proof, err := tlog.ProveTree(tree.N, older.N, reader)
	must(err)
	must(tlog.CheckTree(proof, tree.N, tree.Hash, older.N, older.Hash))
	fmt.Printf("ok: the tree of %d extends the tree of %d\n", tree.N, older.N)
}
