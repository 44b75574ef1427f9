package offload

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"spanrec/firmware/config/setting"
	"spanrec/firmware/offload/offloadtest"
)

// testSource is a Source over a temporary data directory.
type testSource struct {
	DataDir
	mu      sync.Mutex
	items   []Item
	marked  map[string]string
	deleted map[string]bool
}

func newTestSource(t *testing.T) *testSource {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	pub := []byte("spanrec-test-public-key " + hex.EncodeToString(randBytes(t, 32)) + "\n")
	if err := os.WriteFile(filepath.Join(dir, "keys", "spanrec.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return &testSource{DataDir: DataDir(dir), marked: map[string]string{}, deleted: map[string]bool{}}
}

func randBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// add writes a recording of size random bytes and lists it as pending.
func (s *testSource) add(t *testing.T, id string, size int) Item {
	t.Helper()
	return s.addBytes(t, id, randBytes(t, size))
}

// addBytes writes a recording holding data and lists it as pending.
func (s *testSource) addBytes(t testing.TB, id string, data []byte) Item {
	t.Helper()
	rel := "recordings/2026/11/25/" + id + ".wav"
	p := filepath.Join(string(s.DataDir), filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	it := Item{ID: id, File: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	s.mu.Lock()
	s.items = append(s.items, it)
	s.mu.Unlock()
	return it
}

// Pending implements Source.
func (s *testSource) Pending(context.Context) ([]Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Item
	for _, it := range s.items {
		if _, ok := s.marked[it.ID]; !ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// Manifest implements Source.
func (s *testSource) Manifest(_ context.Context, it Item) ([]byte, error) {
	return json.Marshal(map[string]any{"id": it.ID, "file": it.File, "sha256": it.SHA256, "size": it.Size})
}

// MarkOffloaded implements Source.
func (s *testSource) MarkOffloaded(_ context.Context, id, remote string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marked[id] = remote
	return nil
}

// DeleteLocal implements Source.
func (s *testSource) DeleteLocal(ctx context.Context, it Item) error {
	s.mu.Lock()
	s.deleted[it.ID] = true
	s.mu.Unlock()
	return s.DataDir.DeleteLocal(ctx, it)
}

// unmark forgets all marks (as after a crash before the index was updated).
func (s *testSource) unmark() {
	s.mu.Lock()
	s.marked = map[string]string{}
	s.mu.Unlock()
}

func (s *testSource) markedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.marked)
}

func (s *testSource) localBytes(t *testing.T, it Item) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(string(s.DataDir), filepath.FromSlash(it.File)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testLogger() (*slog.Logger, *offloadtest.SyncBuffer) {
	buf := &offloadtest.SyncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// checkShare asserts that shareDir (the directory backing the target)
// holds exactly the given recordings (bit-identical), their manifests and
// the public key, and nothing else: no partial, temporary or duplicate file.
func checkShare(t *testing.T, shareDir string, src *testSource, items []Item) {
	t.Helper()
	want := map[string]bool{PublicKeyName: true}
	for _, it := range items {
		want[it.File] = true
		want[it.ManifestName()] = true
		got, err := os.ReadFile(filepath.Join(shareDir, filepath.FromSlash(it.File)))
		if err != nil {
			t.Fatalf("%s: %v", it.ID, err)
		}
		if !bytes.Equal(got, src.localBytes(t, it)) {
			t.Fatalf("%s: copy differs from the local file (%d vs %d bytes)", it.ID, len(got), it.Size)
		}
		m, err := os.ReadFile(filepath.Join(shareDir, filepath.FromSlash(it.ManifestName())))
		if err != nil {
			t.Fatalf("%s manifest: %v", it.ID, err)
		}
		wm, _ := src.Manifest(context.Background(), it)
		if !bytes.Equal(m, wm) {
			t.Fatalf("%s: manifest differs: %s", it.ID, m)
		}
	}
	pub, err := os.ReadFile(filepath.Join(shareDir, PublicKeyName))
	if err != nil {
		t.Fatal(err)
	}
	wpub, _ := src.PublicKey(context.Background())
	if !bytes.Equal(pub, wpub) {
		t.Fatal("public key on the share differs")
	}
	var files []string
	err = filepath.WalkDir(shareDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(shareDir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	for _, f := range files {
		if !want[f] {
			t.Errorf("unexpected file on the share: %s (all: %v)", f, files)
		}
	}
	if len(files) != len(want) {
		t.Errorf("share holds %d files, want %d: %v", len(files), len(want), files)
	}
}

// waitFor polls cond every 10 ms until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fileSize returns the size of p, or -1 when it is missing.
func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return st.Size()
}

// writeSecret writes a credentials file with the given mode.
func writeSecret(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// server is a real server process started by a test (an offloadtest
// server).
type server interface {
	Stop()
	Start(t testing.TB)
}

// scenario is the behaviour every networked target must show, run against
// a live server: copy, idempotent re-run, the server killed mid-transfer,
// restart and resume, and no secret in errors or logs. shareDir is the
// local directory the server serves as cfg's base.
func scenario(t *testing.T, cfg Config, shareDir string, srv server, secrets []string) {
	ctx := context.Background()
	src := newTestSource(t)
	log, logBuf := testLogger()
	small := []Item{src.add(t, "20261125T090000Z-00000001", 300<<10), src.add(t, "20261125T090100Z-00000002", 1),
		src.add(t, "20261125T090200Z-00000003", 5<<20)}

	o, err := New(cfg, src, log)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := o.RunOnce(ctx)
	if err != nil {
		t.Fatalf("first run: %v (%+v)\nlog:\n%s", err, rep, logBuf)
	}
	if rep.Copied != 3 || rep.Failed != 0 || rep.Skipped != 0 {
		t.Fatalf("first run: %+v", rep)
	}
	t.Logf("%s: %d bytes in %v = %.1f MB/s (write + read-back verify)", cfg.Kind, rep.Bytes, rep.Duration,
		float64(rep.Bytes)/rep.Duration.Seconds()/1e6)
	checkShare(t, shareDir, src, small)
	if src.markedCount() != 3 {
		t.Fatalf("marked %d, want 3", src.markedCount())
	}
	for id, remote := range src.marked {
		if !strings.Contains(remote, id+".wav") || !strings.HasPrefix(remote, cfg.Kind+"://") {
			t.Errorf("remote of %s = %q", id, remote)
		}
	}

	// A re-run after a completed copy that was never marked (crash between
	// rename and mark) finds every file present and only marks it.
	src.unmark()
	rep, err = o.RunOnce(ctx)
	if err != nil || rep.Skipped != 3 || rep.Copied != 0 || rep.Bytes != 0 {
		t.Fatalf("re-run: %+v, %v", rep, err)
	}
	checkShare(t, shareDir, src, small)

	// The server dies while a large file is being copied.
	big := src.add(t, "20261125T100000Z-0000000b", 20<<20)
	capped := cfg
	capped.BandwidthBytesPerSec = 8 << 20
	capped.Timeout = setting.Duration(10 * time.Second)
	oc, err := New(capped, src, log)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		rep Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := oc.RunOnce(ctx)
		done <- result{r, err}
	}()
	partial := filepath.Join(shareDir, filepath.FromSlash(tempName(big.File)))
	waitFor(t, 60*time.Second, "the partial copy to grow past 2 MB", func() bool { return fileSize(partial) >= 2<<20 })
	srv.Stop()
	var res result
	select {
	case res = <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("RunOnce did not return after the server was killed")
	}
	if res.err == nil || !errors.Is(res.err, ErrRemote) || !strings.Contains(res.err.Error(), big.ID) {
		t.Fatalf("run with the server killed: err = %v, report %+v", res.err, res.rep)
	}
	t.Logf("%s: server killed mid-transfer: %v", cfg.Kind, res.err)
	if st := oc.Status(); st.LastError == "" || st.Pending != 1 || st.Running {
		t.Errorf("status after failure: %+v", st)
	}
	left := fileSize(partial)
	if left <= 0 || left >= big.Size {
		t.Fatalf("partial file has %d bytes after the kill", left)
	}

	// A run while the server is down fails cleanly too.
	if _, err := oc.RunOnce(ctx); !errors.Is(err, ErrRemote) {
		t.Fatalf("run with the server down: %v", err)
	}

	srv.Start(t)
	rep, err = oc.RunOnce(ctx)
	if err != nil {
		t.Fatalf("run after restart: %v\nlog:\n%s", err, logBuf)
	}
	if rep.Copied != 1 || rep.Resumed != 1 || rep.Bytes >= big.Size || rep.Bytes < big.Size-left {
		t.Fatalf("run after restart did not resume: %+v (partial had %d of %d bytes)", rep, left, big.Size)
	}
	checkShare(t, shareDir, src, append(small, big))

	// Unlimited throughput figure for the report.
	huge := src.add(t, "20261125T110000Z-0000000c", 32<<20)
	rep, err = o.RunOnce(ctx)
	if err != nil || rep.Copied != 1 {
		t.Fatalf("throughput run: %+v %v", rep, err)
	}
	t.Logf("%s: 32 MiB copied and verified in %v = %.1f MB/s (Status: %.1f MB/s)", cfg.Kind, rep.Duration,
		float64(huge.Size)/rep.Duration.Seconds()/1e6, o.Status().BytesPerSec/1e6)
	checkShare(t, shareDir, src, append(small, big, huge))

	for _, s := range secrets {
		if strings.Contains(logBuf.String(), s) {
			t.Fatal("a secret appears in the log")
		}
		if strings.Contains(fmt.Sprintf("%v %+v %#v %+v", cfg, cfg, cfg, o.Status()), s) {
			t.Fatal("a secret appears in formatted config or status")
		}
	}
}

// checkNoSecret fails when err's text or the log contains a secret.
func checkNoSecret(t *testing.T, err error, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if err != nil && strings.Contains(err.Error(), s) {
			t.Fatalf("secret in error text: %v", err)
		}
		if strings.Contains(log, s) {
			t.Fatal("secret in log output")
		}
	}
}
