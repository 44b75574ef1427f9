package index

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func addFile(t *testing.T, ix *Index, dir, id string) *Call {
	t.Helper()
	rel := "recordings/2026/11/25/" + id + ".wav"
	body := []byte("recording " + id)
	os.MkdirAll(filepath.Join(dir, "recordings/2026/11/25"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, rel), body, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	c := &Call{ID: id, File: rel, SHA256: hex.EncodeToString(sum[:]), Start: time.Now()}
	if err := ix.AddRecording(c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDeletionsAreChained(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	a := addFile(t, ix, dir, "A")
	b := addFile(t, ix, dir, "B")
	addFile(t, ix, dir, "C")
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if err := ix.MarkOffloaded("A", "smb://rec@nas:445/rec/"+a.File, at); err != nil {
		t.Fatal(err)
	}
	// A deleted properly: recorded and chained.
	os.Remove(filepath.Join(dir, a.File))
	if err := ix.MarkDeleted("A", OffloadProof(mustGet(t, ix, "A"), "quota: oldest offloaded recording"), at); err != nil {
		t.Fatal(err)
	}
	got, _ := ix.Get("A")
	if !got.Deleted.Equal(at) || got.DeleteReason == "" || !got.Offloaded.Equal(at) || got.Remote == "" {
		t.Fatalf("A: %+v", got)
	}
	if problems, _ := ix.VerifyChain(dir, nil); len(problems) != 0 {
		t.Fatalf("a chained deletion is reported: %v", problems)
	}
	// B removed behind the appliance's back, with a forged deletion mark in
	// the calls bucket only: still missing.
	os.Remove(filepath.Join(dir, b.File))
	ix.db.Update(func(tx *bolt.Tx) error {
		b.Deleted, b.DeleteReason = at, "forged"
		v, _ := json.Marshal(b)
		return tx.Bucket(bucketCalls).Put([]byte("B"), v)
	})
	problems, _ := ix.VerifyChain(dir, nil)
	if len(problems) != 1 || problems[0].ID != "B" || !strings.HasPrefix(problems[0].What, "missing") {
		t.Fatalf("problems: %v", problems)
	}
	// The JSON form shows the deletion and the offload.
	var m map[string]any
	raw, _ := json.Marshal(got)
	json.Unmarshal(raw, &m)
	if m["deleted"] == nil || m["offloaded"] == nil || m["delete_reason"] == nil {
		t.Fatalf("JSON: %s", raw)
	}
}

func mustGet(t *testing.T, ix *Index, id string) *Call {
	t.Helper()
	c, err := ix.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDeletionProofs: MarkDeleted takes only a proof of the verified copy
// the call was marked offloaded to (or a deletion before any offload);
// the proof is covered by the entry's hash; VerifyChain reports a
// deletion without proof, a proof of the wrong shape and a deletion that
// names another file than the recording's.
func TestDeletionProofs(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	a := addFile(t, ix, dir, "A")
	addFile(t, ix, dir, "B")
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	remote := "sftp://rec@nas:22/spanrec/" + a.File
	for _, tc := range []struct {
		name  string
		proof DeletionProof
	}{
		{"not offloaded yet", OffloadProof(a, "retention")},
		{"admin kind", DeletionProof{Kind: ProofAdmin, Reason: "admin", Admin: "x", AuditSeq: 1}},
		{"no reason", DeletionProof{Kind: ProofUnoffloaded}},
		{"unknown kind", DeletionProof{Kind: "trust me", Reason: "r"}},
	} {
		if err := ix.MarkDeleted("A", tc.proof, at); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := ix.MarkOffloaded("A", remote, at); err != nil {
		t.Fatal(err)
	}
	wrong := OffloadProof(mustGet(t, ix, "A"), "retention")
	wrong.SHA256 = strings.Repeat("0", 64)
	if err := ix.MarkDeleted("A", wrong, at); !errors.Is(err, ErrInvalid) {
		t.Errorf("a copy of another hash: %v", err)
	}
	os.Remove(filepath.Join(dir, a.File))
	if err := ix.MarkDeleted("A", OffloadProof(mustGet(t, ix, "A"), "retention: older than 90 days"), at); err != nil {
		t.Fatal(err)
	}
	if problems, _ := ix.VerifyChain(dir, nil); len(problems) != 0 {
		t.Fatalf("a proven deletion is reported: %v", problems)
	}
	var del *ChainEntry
	ix.Chain(func(e *ChainEntry) error {
		if e.ID == "A"+DeletedSuffix {
			del = e
		}
		return nil
	})
	if del == nil || del.Proof == nil || del.Proof.Target != remote || del.Proof.Path != a.File || del.Proof.SHA256 != a.SHA256 {
		t.Fatalf("deletion entry %+v", del)
	}
	if del.Hash == EntryHash(del.Prev, del.ID, del.File, del.SHA256) {
		t.Fatal("the proof is not covered by the entry's hash")
	}

	f := &chainFixture{ix: ix}
	for _, tc := range []struct {
		name string
		edit func(*ChainEntry)
		says string
	}{
		{"proof dropped", func(e *ChainEntry) { e.Proof = nil }, "deletion without proof"},
		{"copy elsewhere", func(e *ChainEntry) { e.Proof.Path = "recordings/other.wav" }, "does not name the remote path"},
		{"object elsewhere", func(e *ChainEntry) { e.Proof.Target = "https://s3:9000/archive/site-a/2026/other.wav" }, "does not name the remote path"},
		{"no target", func(e *ChainEntry) { e.Proof.Target = "" }, "is not a URL"},
		{"another file", func(e *ChainEntry) { e.File, e.Proof.Path = "recordings/B.wav", "recordings/B.wav" }, "the recording (seq 1)"},
		{"admin without audit", func(e *ChainEntry) {
			*e.Proof = DeletionProof{Kind: ProofAdmin, Reason: "admin", Admin: "console:eve", AuditSeq: 7}
		}, "audit log entry 7, which does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := *del
			proof := *del.Proof
			f.tamperEntry(t, del.Seq, func(e *ChainEntry) {
				tc.edit(e)
				e.Hash = e.ComputeHash(e.Prev) // a consistent forgery
			})
			defer f.tamperEntry(t, del.Seq, func(e *ChainEntry) { *e = orig; e.Proof = &proof })
			problems, _ := ix.VerifyChain(dir, nil)
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p.What, tc.says)
			}
			if !found {
				t.Fatalf("problems %v, want one saying %q", problems, tc.says)
			}
		})
	}
}
