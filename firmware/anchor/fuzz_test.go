package anchor

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must not panic, and what
// it accepts is well-formed (covered entries contiguous up to the head).
// The corpus in testdata/fuzz/FuzzParse holds real anchors signed with
// testKey and broken ones.
func FuzzParse(f *testing.F) {
	pub := testKey().Public().(ed25519.PublicKey)
	f.Add([]byte(`{"record":{},"signature":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data, pub)
		if err != nil {
			return
		}
		if r.Seq == 0 || r.Covered[len(r.Covered)-1].Hash != r.Head || r.Covered[0].Seq != r.From {
			t.Fatalf("accepted a malformed record %+v", r)
		}
	})
}

// TestFuzzCorpusHoldsValidAnchors: the corpus's valid_* entries are
// accepted (so the fuzzer starts from real anchors), the others refused.
func TestFuzzCorpusHoldsValidAnchors(t *testing.T) {
	pub := testKey().Public().(ed25519.PublicKey)
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	if err != nil || len(files) < 4 {
		t.Fatalf("corpus %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(b), "\n", 3)
		q, ok := strings.CutPrefix(lines[1], "[]byte(")
		if !ok {
			t.Fatalf("%s: %q", f, lines[1])
		}
		data, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		_, err = Parse([]byte(data), pub)
		if valid := strings.HasPrefix(filepath.Base(f), "valid_"); valid != (err == nil) {
			t.Errorf("%s: %v", f, err)
		}
	}
}
