package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/index"
	"spanrec/firmware/offload"
)

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// fixture makes n 1 MB recordings, one a day, oldest first; offloaded
// lists which are already offloaded.
func fixture(t *testing.T, n int, offloaded ...int) (string, *index.Index) {
	t.Helper()
	dir := t.TempDir()
	ix, err := index.Open(filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	body := make([]byte, 1<<20)
	for i := 0; i < n; i++ {
		start := t0.Add(time.Duration(i) * 24 * time.Hour)
		id := fmt.Sprintf("%s-%08x", start.Format("20060102T150405Z"), i)
		rel := "recordings/" + id + ".wav"
		body[0] = byte(i)
		os.MkdirAll(filepath.Join(dir, "recordings"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, rel), body, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		c := &index.Call{ID: id, File: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(body)), Start: start, Answer: start, End: start.Add(time.Minute)}
		if err := ix.AddRecording(c); err != nil {
			t.Fatal(err)
		}
	}
	ids := ids(t, ix)
	for _, i := range offloaded {
		ix.MarkOffloaded(ids[i], "file:///share/recordings/"+ids[i]+".wav", t0)
	}
	return dir, ix
}

func ids(t *testing.T, ix *index.Index) []string {
	var out []string
	ix.List(func(c *index.Call) error { out = append(out, c.ID); return nil })
	return out
}

func deleted(t *testing.T, ix *index.Index) map[int]string {
	out := map[int]string{}
	i := 0
	ix.List(func(c *index.Call) error {
		if !c.Deleted.IsZero() {
			out[i] = c.DeleteReason
		}
		i++
		return nil
	})
	return out
}

func chainClean(t *testing.T, dir string, ix *index.Index) {
	t.Helper()
	problems, err := ix.VerifyChain(dir, nil)
	if err != nil || len(problems) > 0 {
		t.Fatalf("chain: %v %v", problems, err)
	}
}

func TestQuotaDeletesOldestOffloadedFirst(t *testing.T) {
	dir, ix := fixture(t, 5, 0, 2, 4)
	m := New(Config{DataDir: dir, MaxBytes: 3 << 20, MinFreeBytes: -1}, ix, nil)
	rep, err := m.RunOnce(t0.Add(10 * 24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	d := deleted(t, ix)
	if len(rep.Deleted) != 2 || d[0] == "" || d[2] == "" || len(d) != 2 || !strings.HasPrefix(d[0], "quota") {
		t.Fatalf("deleted %v (%v)", d, rep.Deleted)
	}
	if st := m.Status(); st.UsedBytes != 3<<20 || st.Full {
		t.Fatalf("status %+v", st)
	}
	chainClean(t, dir, ix)
}

func TestNotOffloadedIsKeptUnlessAllowed(t *testing.T) {
	dir, ix := fixture(t, 4)
	m := New(Config{DataDir: dir, MaxBytes: 2 << 20, MinFreeBytes: -1}, ix, nil)
	rep, _ := m.RunOnce(t0.Add(10 * 24 * time.Hour))
	if len(rep.Deleted) != 0 || !m.Status().Full || !m.Status().NearFull {
		t.Fatalf("deleted %v, status %+v", rep.Deleted, m.Status())
	}
	m = New(Config{DataDir: dir, MaxBytes: 2 << 20, MinFreeBytes: -1, DeleteUnoffloaded: true}, ix, nil)
	rep, _ = m.RunOnce(t0.Add(10 * 24 * time.Hour))
	d := deleted(t, ix)
	if len(rep.Deleted) != 2 || d[0] == "" || d[1] == "" || !strings.Contains(d[0], "not offloaded") || m.Status().Full {
		t.Fatalf("deleted %v, status %+v", d, m.Status())
	}
	chainClean(t, dir, ix)
}

func TestRetentionByAge(t *testing.T) {
	dir, ix := fixture(t, 5, 0, 1, 2, 3)
	m := New(Config{DataDir: dir, MaxAge: 2 * 24 * time.Hour, MinFreeBytes: -1}, ix, nil)
	// Now is day 5: recordings 0..2 are older than 2 days; all offloaded.
	rep, _ := m.RunOnce(t0.Add(5 * 24 * time.Hour))
	d := deleted(t, ix)
	if len(rep.Deleted) != 3 || !strings.HasPrefix(d[0], "retention: older than 2 days") {
		t.Fatalf("deleted %v", d)
	}
	chainClean(t, dir, ix)
}

func TestOffloadSource(t *testing.T) {
	dir, ix := fixture(t, 3, 0)
	src := NewOffloadSource(dir, ix, nil)
	ctx := context.Background()
	items, err := src.Pending(ctx)
	if err != nil || len(items) != 2 {
		t.Fatalf("pending %v %v", items, err)
	}
	man, err := src.Manifest(ctx, items[0])
	if err != nil || !strings.Contains(string(man), items[0].ID) {
		t.Fatalf("manifest %s %v", man, err)
	}
	if err := src.MarkOffloaded(ctx, items[0].ID, "file:///share/"+items[0].File, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := src.DeleteLocal(ctx, offload.Item{ID: items[0].ID, File: items[0].File}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, items[0].File)); !os.IsNotExist(err) {
		t.Fatal("file still there")
	}
	if items, _ := src.Pending(ctx); len(items) != 1 {
		t.Fatalf("pending after offload %v", items)
	}
	chainClean(t, dir, ix)
}

// addRaw gives the recording ids[i] a raw media companion of 1 MB.
func addRaw(t *testing.T, dir string, ix *index.Index, owner string) string {
	t.Helper()
	c, err := ix.Get(owner)
	if err != nil {
		t.Fatal(err)
	}
	raw := *c
	raw.ID, raw.Media, raw.RawOf, raw.File = owner+"-raw", index.MediaRaw, owner, "recordings/"+owner+"-raw.rtp.pcapng"
	raw.Offloaded, raw.Remote = time.Time{}, ""
	body := make([]byte, 1<<20)
	body[1] = 7
	if err := os.WriteFile(filepath.Join(dir, raw.File), body, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	raw.SHA256, raw.Size = hex.EncodeToString(sum[:]), int64(len(body))
	if err := ix.AddRecording(&raw); err != nil {
		t.Fatal(err)
	}
	c.RawID, c.RawRTP = raw.ID, raw.File
	if err := ix.AddRecording(c); err != nil {
		t.Fatal(err)
	}
	return raw.ID
}

func exists(dir, rel string) bool {
	_, err := os.Stat(filepath.Join(dir, rel))
	return err == nil
}

// A WAV's raw media is never deleted before it is offloaded, nor apart from
// its WAV: quota and age retention take the two together.
func TestRawMediaGoesWithItsRecording(t *testing.T) {
	dir, ix := fixture(t, 3, 0, 1, 2)
	all := ids(t, ix)
	rawID := addRaw(t, dir, ix, all[0])
	raw, _ := ix.Get(rawID)
	// Over quota, the oldest recording is offloaded, its raw media is not:
	// neither goes, the next oldest does.
	m := New(Config{DataDir: dir, MaxBytes: 3 << 20, MinFreeBytes: -1}, ix, nil)
	rep, err := m.RunOnce(t0.Add(10 * 24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Deleted) != 1 || rep.Deleted[0] != all[1] || !exists(dir, raw.File) {
		t.Fatalf("deleted %v; raw kept %v", rep.Deleted, exists(dir, raw.File))
	}
	// Age retention: not before the raw media is offloaded either.
	m = New(Config{DataDir: dir, MaxAge: 24 * time.Hour, MinFreeBytes: -1}, ix, nil)
	if rep, _ := m.RunOnce(t0.Add(10 * 24 * time.Hour)); len(rep.Deleted) != 1 || rep.Deleted[0] != all[2] {
		t.Fatalf("age: deleted %v", rep.Deleted)
	}
	if err := ix.MarkOffloaded(rawID, "file:///share/recordings/"+rawID+".rtp.pcapng", t0); err != nil {
		t.Fatal(err)
	}
	rep, err = m.RunOnce(t0.Add(10 * 24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Deleted) != 2 || exists(dir, raw.File) || exists(dir, "recordings/"+all[0]+".wav") {
		t.Fatalf("age with both offloaded: deleted %v", rep.Deleted)
	}
	chainClean(t, dir, ix)
}

// delete_after_offload: the first of a WAV and its raw media to be copied
// waits for the other; then both go.
func TestDeleteAfterOffloadWaitsForTheRawMedia(t *testing.T) {
	dir, ix := fixture(t, 1)
	owner := ids(t, ix)[0]
	rawID := addRaw(t, dir, ix, owner)
	src := NewOffloadSource(dir, ix, nil)
	ctx := context.Background()
	items, err := src.Pending(ctx)
	if err != nil || len(items) != 2 {
		t.Fatalf("pending %v %v", items, err)
	}
	byID := map[string]offload.Item{}
	for _, it := range items {
		byID[it.ID] = it
	}
	if err := src.MarkOffloaded(ctx, owner, "file:///share/recordings/"+owner+".wav", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := src.DeleteLocal(ctx, byID[owner]); err != nil {
		t.Fatal(err)
	}
	if !exists(dir, byID[owner].File) || !exists(dir, byID[rawID].File) {
		t.Fatal("deleted before the raw media was offloaded")
	}
	if err := src.MarkOffloaded(ctx, rawID, "file:///share/recordings/"+rawID+".rtp.pcapng", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := src.DeleteLocal(ctx, byID[rawID]); err != nil {
		t.Fatal(err)
	}
	if exists(dir, byID[owner].File) || exists(dir, byID[rawID].File) {
		t.Fatal("not deleted once both were offloaded")
	}
	for _, id := range []string{owner, rawID} {
		if c, _ := ix.Get(id); c.Deleted.IsZero() {
			t.Fatalf("%s not marked deleted", id)
		}
	}
	chainClean(t, dir, ix)
}
