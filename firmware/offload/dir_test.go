package offload

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/config/setting"
)

func dirConfig(share string) Config {
	return Config{Kind: KindDir, Path: share, Retry: Retry{Min: setting.Duration(time.Millisecond), Max: setting.Duration(10 * time.Millisecond)}}
}

func TestDirOffloadAndRerun(t *testing.T) {
	share := t.TempDir()
	src := newTestSource(t)
	log, logBuf := testLogger()
	items := []Item{src.add(t, "20261125T090000Z-00000001", 100<<10), src.add(t, "20261125T090100Z-00000002", 0)}
	o, err := New(dirConfig(share), src, log)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := o.RunOnce(context.Background())
	if err != nil || rep.Copied != 2 || rep.Failed != 0 {
		t.Fatalf("%+v %v\n%s", rep, err, logBuf)
	}
	checkShare(t, share, src, items)
	if !strings.HasPrefix(src.marked[items[0].ID], "file:///") {
		t.Errorf("remote = %q", src.marked[items[0].ID])
	}
	// Nothing pending: the target is not even contacted.
	rep, err = o.RunOnce(context.Background())
	if err != nil || rep.Copied+rep.Skipped+rep.Failed != 0 || rep.Bytes != 0 {
		t.Fatalf("idle run: %+v %v", rep, err)
	}
	src.unmark()
	rep, err = o.RunOnce(context.Background())
	if err != nil || rep.Skipped != 2 || rep.Bytes != 0 {
		t.Fatalf("re-run: %+v %v", rep, err)
	}
	checkShare(t, share, src, items)
	st := o.Status()
	if st.Pending != 0 || st.LastError != "" || st.LastSuccess.IsZero() || st.Running {
		t.Errorf("status %+v", st)
	}
}

func TestDirInterruptedResumes(t *testing.T) {
	share := t.TempDir()
	src := newTestSource(t)
	big := src.add(t, "20261125T100000Z-0000000b", 16<<20)
	cfg := dirConfig(share)
	cfg.BandwidthBytesPerSec = 8 << 20
	o, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := o.RunOnce(ctx)
		done <- err
	}()
	partial := filepath.Join(share, filepath.FromSlash(tempName(big.File)))
	waitFor(t, 60*time.Second, "partial copy", func() bool { return fileSize(partial) >= 1<<20 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	left := fileSize(partial)
	if left <= 0 || left >= big.Size {
		t.Fatalf("partial has %d bytes", left)
	}
	// Corrupt nothing: resume continues after the prefix.
	rep, err := o.RunOnce(context.Background())
	if err != nil || rep.Resumed != 1 || rep.Copied != 1 || rep.Bytes < big.Size-left || rep.Bytes > big.Size-left+4096 { // + the manifest
		t.Fatalf("resume: %+v %v (partial %d)", rep, err, left)
	}
	checkShare(t, share, src, []Item{big})
}

func TestDirPartialWithWrongPrefixRestarts(t *testing.T) {
	share := t.TempDir()
	src := newTestSource(t)
	it := src.add(t, "20261125T100000Z-0000000b", 1<<20)
	partial := filepath.Join(share, filepath.FromSlash(tempName(it.File)))
	if err := os.MkdirAll(filepath.Dir(partial), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(partial, bytes.Repeat([]byte{0x55}, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	// A wrong file already in place is replaced as well.
	final := filepath.Join(share, filepath.FromSlash(it.File))
	if err := os.WriteFile(final, []byte("not the recording"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := New(dirConfig(share), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := o.RunOnce(context.Background())
	if err != nil || rep.Copied != 1 || rep.Resumed != 0 || rep.Bytes < it.Size {
		t.Fatalf("%+v %v", rep, err)
	}
	checkShare(t, share, src, []Item{it})
}

func TestDirLocalMismatchNotOffloaded(t *testing.T) {
	share := t.TempDir()
	src := newTestSource(t)
	good := src.add(t, "20261125T090000Z-00000001", 10<<10)
	bad := src.add(t, "20261125T090100Z-00000002", 10<<10)
	src.items[1].SHA256 = strings.Repeat("0", 64) // the index says otherwise
	good2 := src.add(t, "20261125T090200Z-00000003", 10<<10)
	o, err := New(dirConfig(share), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := o.RunOnce(context.Background())
	if !errors.Is(err, ErrItemsFailed) || !errors.Is(err, ErrLocalMismatch) || rep.Copied != 2 || rep.Failed != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	if len(rep.Failures) != 1 || rep.Failures[0].ID != bad.ID {
		t.Fatalf("failures %+v", rep.Failures)
	}
	if _, ok := src.marked[bad.ID]; ok {
		t.Fatal("mismatching recording marked offloaded")
	}
	checkShare(t, share, src, []Item{good, good2})
}

func TestDirDeleteAfterOffload(t *testing.T) {
	share := t.TempDir()
	src := newTestSource(t)
	it := src.add(t, "20261125T090000Z-00000001", 10<<10)
	cfg := dirConfig(share)
	cfg.DeleteAfterOffload = true
	o, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	local := src.localBytes(t, it)
	if _, err := o.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(share, filepath.FromSlash(it.File)))
	if err != nil || !bytes.Equal(got, local) {
		t.Fatalf("copy: %v", err)
	}
	if !src.deleted[it.ID] || fileSize(filepath.Join(string(src.DataDir), it.File)) != -1 {
		t.Fatal("local recording not deleted")
	}
}

func TestDirPublicKeyChangeKeepsOld(t *testing.T) {
	share := t.TempDir()
	if err := os.WriteFile(filepath.Join(share, PublicKeyName), []byte("old key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := newTestSource(t)
	it := src.add(t, "20261125T090000Z-00000001", 10)
	o, err := New(dirConfig(share), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(share, "spanrec-*.pub"))
	if len(old) != 1 {
		t.Fatalf("old key kept as %v", old)
	}
	if b, _ := os.ReadFile(old[0]); string(b) != "old key\n" {
		t.Fatalf("old key content %q", b)
	}
	os.Remove(old[0])
	checkShare(t, share, src, []Item{it})
}

func TestDirRefusals(t *testing.T) {
	share := t.TempDir()
	src := newTestSource(t)
	src.add(t, "20261125T090000Z-00000001", 10)
	// A directory that is not a mount point is refused with RequireMount.
	cfg := dirConfig(share)
	cfg.RequireMount = true
	o, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.RunOnce(context.Background()); !errors.Is(err, ErrNotMounted) || !errors.Is(err, ErrRemote) {
		t.Fatalf("not a mount point: %v", err)
	}
	// A missing directory is never created.
	cfg = dirConfig(filepath.Join(share, "missing"))
	o, err = New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.RunOnce(context.Background()); !errors.Is(err, ErrRemote) {
		t.Fatalf("missing dir: %v", err)
	}
	if fileSize(filepath.Join(share, "missing")) != -1 {
		t.Fatal("missing share directory was created")
	}
	// Unsafe items are refused before touching the target.
	src2 := newTestSource(t)
	src2.items = []Item{{ID: "x", File: "../../etc/passwd", SHA256: strings.Repeat("a", 64), Size: 1}}
	o, err = New(dirConfig(share), src2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.RunOnce(context.Background()); !errors.Is(err, ErrItem) {
		t.Fatalf("unsafe item: %v", err)
	}
}

func TestRunTriggerAndStatus(t *testing.T) {
	share := t.TempDir()
	src := newTestSource(t)
	it := src.add(t, "20261125T090000Z-00000001", 10)
	cfg := dirConfig(share)
	cfg.Interval = setting.Duration(time.Hour)
	now := time.Now()
	// A window that is closed now: the scheduled run waits, Trigger runs.
	cfg.Window = Window{Start: (now.Hour()*60 + now.Minute() + 120) % 1440, End: (now.Hour()*60 + now.Minute() + 180) % 1440}.String()
	o, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	waitFor(t, 10*time.Second, "Run to plan a run", func() bool { return !o.Status().NextRun.IsZero() })
	if st := o.Status(); !st.LastRun.IsZero() || st.NextRun.Before(now.Add(time.Hour)) {
		t.Fatalf("scheduled run outside the window: %+v", st)
	}
	o.Trigger()
	waitFor(t, 30*time.Second, "the triggered run", func() bool { return src.markedCount() == 1 && !o.Status().Running })
	checkShare(t, share, src, []Item{it})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	if st := o.Status(); st.LastSuccess.IsZero() || st.LastReport.Copied != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestRunRetriesWithBackoff(t *testing.T) {
	src := newTestSource(t)
	src.add(t, "20261125T090000Z-00000001", 10)
	share := filepath.Join(t.TempDir(), "later")
	cfg := dirConfig(share) // missing until created below: runs fail
	o, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := []time.Duration{o.backoff(1), o.backoff(2), o.backoff(3), o.backoff(10), o.backoff(100)}; got[0] != time.Millisecond || got[1] != 2*time.Millisecond || got[2] != 4*time.Millisecond || got[3] != 10*time.Millisecond || got[4] != 10*time.Millisecond {
		t.Fatalf("backoff %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	waitFor(t, 30*time.Second, "a few failed runs", func() bool { return o.Status().ConsecutiveFailures >= 3 })
	if err := os.Mkdir(share, 0o755); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a successful retry", func() bool { return src.markedCount() == 1 })
	cancel()
	<-done
	if st := o.Status(); st.ConsecutiveFailures != 0 || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
}
