package index

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
