package anchor

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/index"
)

var t0 = time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)

// testKey is a fixed key, so the fuzz corpus in testdata stays valid.
func testKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// chainOf builds a real index in a temporary directory with n recordings
// and returns it (open) and its entries.
func chainOf(t *testing.T, n int) (*index.Index, []index.ChainEntry) {
	t.Helper()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	for i := range n {
		id := t0.Add(time.Duration(i)*time.Minute).Format("20060102T150405Z") + "-0000000" + string(rune('a'+i))
		if err := ix.AddRecording(&index.Call{ID: id, File: "recordings/2026/11/25/" + id + ".wav", SHA256: sha(id)}); err != nil {
			t.Fatal(err)
		}
	}
	return ix, entries(t, ix)
}

func entries(t *testing.T, ix *index.Index) []index.ChainEntry {
	t.Helper()
	var out []index.ChainEntry
	if err := ix.Chain(func(e *index.ChainEntry) error { out = append(out, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSignParseRoundTrip(t *testing.T) {
	ix, chain := chainOf(t, 3)
	r, err := Build(ix, nil, t0)
	if err != nil || r == nil {
		t.Fatalf("build: %v %v", r, err)
	}
	if r.Seq != 3 || r.Entries != 3 || r.From != 1 || len(r.Covered) != 3 || r.Head != chain[2].Hash {
		t.Fatalf("record %+v", r)
	}
	if r.Name() != "anchors/20261125T230000Z-000000000003.json" {
		t.Fatalf("name %s", r.Name())
	}
	priv := testKey()
	data, err := Sign(r, priv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if got.Head != r.Head || got.Seq != 3 || !got.Time.Equal(t0) || len(got.Covered) != 3 {
		t.Fatalf("parsed %+v", got)
	}
	// Re-indenting the file keeps the signature valid (it covers the
	// compacted record); changing a byte of the record does not.
	var reindented bytes.Buffer
	reindented.Write(bytes.ReplaceAll(data, []byte("\n"), []byte("\n  ")))
	if _, err := Parse(reindented.Bytes(), priv.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("reindented: %v", err)
	}
	forged := bytes.Replace(data, []byte(`"seq": 3`), []byte(`"seq": 2`), 1)
	if _, err := Parse(forged, priv.Public().(ed25519.PublicKey)); err == nil {
		t.Fatal("a changed record parses")
	}
	head := bytes.Replace(data, []byte(r.Head), []byte(sha("x")), -1)
	if _, err := Parse(head, priv.Public().(ed25519.PublicKey)); !errors.Is(err, ErrSignature) {
		t.Fatalf("a changed head: %v", err)
	}
}

func TestParseSaysWhatIsWrong(t *testing.T) {
	ix, _ := chainOf(t, 2)
	r, _ := Build(ix, nil, t0)
	priv := testKey()
	pub := priv.Public().(ed25519.PublicKey)
	good, err := Sign(r, priv)
	if err != nil {
		t.Fatal(err)
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, ed25519.SeedSize))
	for _, tc := range []struct {
		name string
		data []byte
		pub  ed25519.PublicKey
		err  error
		says string
	}{
		{"empty", nil, pub, ErrFormat, "EOF"},
		{"not JSON", []byte("anchor"), pub, ErrFormat, "invalid character"},
		{"truncated", good[:len(good)/2], pub, ErrFormat, "unexpected EOF"},
		{"trailing data", append(append([]byte{}, good...), "{}"...), pub, ErrFormat, "after the JSON value"},
		{"unknown field", bytes.Replace(good, []byte(`"signature"`), []byte(`"extra": 1, "signature"`), 1), pub, ErrFormat, "unknown field"},
		{"no signature", bytes.Replace(good, []byte(`"signature"`), []byte(`"signatur"`), 1), pub, ErrFormat, "unknown field"},
		{"bad format", bytes.Replace(good, []byte(Format), []byte("spanrec-anchor/9"), 1), pub, ErrFormat, "format"},
		{"entries not seq", bytes.Replace(good, []byte(`"entries": 2`), []byte(`"entries": 5`), 1), pub, ErrFormat, "entries 5"},
		{"from beyond seq", bytes.Replace(good, []byte(`"from": 1`), []byte(`"from": 3`), 1), pub, ErrFormat, "from 3"},
		{"bad signature", bytes.Replace(good, []byte(`"signature": "`), []byte(`"signature": "AAAA`), 1), pub, ErrFormat, "base64"},
		{"another key", good, other.Public().(ed25519.PublicKey), ErrKey, "not "},
		{"huge", make([]byte, MaxSize+1), pub, ErrFormat, "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data, tc.pub)
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err %v, want %v saying %q", err, tc.err, tc.says)
			}
		})
	}
}

// TestBuildStartsAfterTheLastAnchor: the next anchor lists only the
// entries since the last one written, or the whole chain when that entry
// is no longer what it was; nothing when the head is anchored already.
func TestBuildStartsAfterTheLastAnchor(t *testing.T) {
	ix, chain := chainOf(t, 3)
	last := &Written{Seq: 2, Head: chain[1].Hash}
	r, err := Build(ix, last, t0)
	if err != nil || r.From != 3 || len(r.Covered) != 1 {
		t.Fatalf("after seq 2: %+v %v", r, err)
	}
	if r, err := Build(ix, &Written{Seq: 3, Head: chain[2].Hash}, t0); r != nil || err != nil {
		t.Fatalf("head anchored: %+v %v", r, err)
	}
	for _, w := range []*Written{{Seq: 2, Head: sha("other")}, {Seq: 9, Head: chain[2].Hash}} {
		if r, err := Build(ix, w, t0); err != nil || r.From != 1 || len(r.Covered) != 3 {
			t.Fatalf("after %+v: %+v %v", w, r, err)
		}
	}
	empty, _ := chainOf(t, 0)
	if r, err := Build(empty, nil, t0); r != nil || err != nil {
		t.Fatalf("empty chain: %+v %v", r, err)
	}
	// The last anchor written, kept in the index's meta.
	if w, err := Last(ix); w != nil || err != nil {
		t.Fatalf("none written: %+v %v", w, err)
	}
	want := Written{Name: "anchors/x.json", Remote: "file:///share/anchors/x.json", Time: t0, Seq: 3, Head: chain[2].Hash}
	if err := Store(ix, want); err != nil {
		t.Fatal(err)
	}
	if w, err := Last(ix); err != nil || *w != want {
		t.Fatalf("last %+v %v", w, err)
	}
}

// TestVerifyNamesTheAnchorAndTheEntry: against a share with two anchors,
// a chain whose second entry changed is reported by each anchor that
// covers it, naming entry 2; a chain cut short says which entries went.
func TestVerifyNamesTheAnchorAndTheEntry(t *testing.T) {
	ix, chain := chainOf(t, 4)
	share := t.TempDir()
	priv := testKey()
	pub := priv.Public().(ed25519.PublicKey)
	os.MkdirAll(filepath.Join(share, Dir), 0o750)
	var last *Written
	for i, at := range []time.Time{t0, t0.Add(time.Hour)} {
		if i == 1 {
			ix.AddRecording(&index.Call{ID: "20261126T000000Z-0000000z", File: "recordings/2026/11/26/z.wav", SHA256: sha("z")})
		}
		r, err := Build(ix, last, at)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := Sign(r, priv)
		os.WriteFile(filepath.Join(share, filepath.FromSlash(r.Name())), data, 0o640)
		last = &Written{Seq: r.Seq, Head: r.Head}
	}
	chain = entries(t, ix)
	res, err := Verify(share, pub, chain)
	if err != nil || len(res.Problems) != 0 || res.Anchors != 2 || res.Last.Seq != 5 || res.Local != 5 {
		t.Fatalf("clean: %+v %v", res, err)
	}

	changed := append([]index.ChainEntry(nil), chain...)
	changed[1].SHA256 = sha("silenced")
	res, _ = Verify(share, pub, changed)
	if len(res.Problems) != 2 {
		t.Fatalf("problems %v", res.Problems)
	}
	for _, p := range res.Problems {
		if p.ID != chain[1].ID || !strings.Contains(p.What, "entry 2 ("+chain[1].ID+")") || !strings.Contains(p.What, "anchors/") {
			t.Errorf("problem %s", p)
		}
	}
	res, _ = Verify(share, pub, chain[:4])
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].What, "no entry 5") ||
		!strings.Contains(res.Problems[0].What, "entries 1..5") {
		t.Fatalf("cut short: %v", res.Problems)
	}
	if _, err := Verify(filepath.Join(share, "nothing"), pub, chain); err == nil {
		t.Fatal("a missing share is no error")
	}
	emptyShare := t.TempDir()
	os.MkdirAll(filepath.Join(emptyShare, Dir), 0o750)
	if res, _ := Verify(emptyShare, pub, chain); len(res.Problems) != 1 || !strings.HasPrefix(res.Problems[0].What, "no anchors") {
		t.Fatalf("empty share: %v", res.Problems)
	}
}
