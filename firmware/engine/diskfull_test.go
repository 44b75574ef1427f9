package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/firmware/storage"
	"spanrec/hal/led"
	"spanrec/hal/ledstate"
	"spanrec/media/sign"
)

// smallFS mounts a tmpfs of size bytes on a fresh directory and unmounts
// it when the test ends. It skips when not root.
func smallFS(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fullCalls returns n 8-second calls starting at start, 200 ms apart, each
// on its own media ports, numbered from first.
func fullCalls(t *testing.T, n, first int, start time.Time) []simcall.Call {
	callerAudio, calleeAudio := testAudio(t, false)
	var cs []simcall.Call
	for i := range n {
		k := first + i
		cs = append(cs, simcall.Call{
			CallID:      fmt.Sprintf("diskfull-%d@spanrec.test", k),
			CallerNum:   fmt.Sprint(1000 + k),
			CalleeNum:   fmt.Sprint(2000 + k),
			CallerRTP:   netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(20000+4*k)),
			CalleeRTP:   netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(30000+4*k)),
			CallerAudio: callerAudio, CalleeAudio: calleeAudio,
			Start: start.Add(time.Duration(i) * 200 * time.Millisecond),
			Talk:  8 * time.Second,
		})
	}
	return cs
}

func freeBytes(t *testing.T, dir string) uint64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Bavail * uint64(st.Bsize)
}

func faultLED(st storage.Status) led.State {
	return ledstate.FaultLight(ledstate.State{StorageNearFull: st.NearFull || st.Full})
}

// indexByCallee lists the index, keyed by callee number.
func indexByCallee(t *testing.T, ix *index.Index) map[string]*index.Call {
	t.Helper()
	out := map[string]*index.Call{}
	err := ix.List(func(c *index.Call) error {
		if prev, dup := out[c.Callee]; dup {
			t.Errorf("callee %s indexed twice: %s and %s", c.Callee, prev.ID, c.ID)
		}
		out[c.Callee] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// verifyOpenIndex checks the hash chain and every signature through an
// index that is open (the engine holds its lock).
func verifyOpenIndex(t *testing.T, ix *index.Index, data string) {
	t.Helper()
	pub, err := keys.LoadPublic(datadir.Layout(data).PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	problems, err := ix.VerifyChain(data, func(path string) error { return sign.VerifyFile(path, pub) })
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("chain: %s", p)
	}
}

// TestDiskFull records more audio than an 8 MiB filesystem holds: nothing
// crashes, every call is indexed (recorded and verifiable, or not recorded
// with the disk-full reason), the storage manager reports the disk full
// without deleting anything it must keep, the fault LED warns; once space
// is back new calls are recorded again; and with offloaded recordings the
// manager frees space by deleting only those, with the deletions chained.
func TestDiskFull(t *testing.T) {
	data := smallFS(t, 8<<20)
	// A filler takes half the disk, so the calls fill the rest quickly.
	filler := filepath.Join(data, "filler")
	if err := os.WriteFile(filler, make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	first := fullCalls(t, 30, 0, day)
	// The first two end long before the disk fills, however far the
	// capture runs ahead of the finishers: some calls are always recorded.
	first[0].Talk, first[1].Talk = time.Second, time.Second
	capture1, res1 := writeCapture(t, scenario{calls: first})
	callerAudio, calleeAudio := testAudio(t, false)

	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := Open(Options{DataDir: data, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			e.Close("test-ended")
		}
	}()
	if err := e.ImportFile(context.Background(), capture1); err != nil {
		t.Fatalf("import on a filling disk: %v", err)
	}
	e.Drain()
	t.Logf("after %d calls: %d bytes free; recorder %+v", len(first), freeBytes(t, data), e.Summary().Recorder)

	got := indexByCallee(t, e.Index)
	var ok, noSpace []*index.Call
	for i, c := range first {
		ic := got[c.CalleeNum]
		switch {
		case ic == nil:
			t.Errorf("call %s (%d of %d) is not in the index", c.CalleeNum, i+1, len(first))
		case ic.Recorded:
			ok = append(ok, ic)
			checkAudio(t, data, ic, res1[i], callerAudio, calleeAudio, false, 0.99)
		case ic.EndReason == "in-progress":
			t.Errorf("call %s ended but its index entry still says in progress (file %s): the final index write was lost", ic.Callee, ic.File)
		case strings.Contains(ic.Reason, "no space left on device"):
			noSpace = append(noSpace, ic)
			t.Logf("call %s not recorded: incomplete=%v file=%q reason %q", ic.Callee, ic.Incomplete, ic.File, ic.Reason)
			if ic.File != "" && !ic.Incomplete {
				t.Errorf("call %s: a partial file %s not marked incomplete", ic.Callee, ic.File)
			}
		default:
			t.Errorf("call %s not recorded for another reason: %+v", ic.Callee, ic)
		}
	}
	t.Logf("disk full: %d recorded, %d not recorded for want of space", len(ok), len(noSpace))
	if t.Failed() {
		t.Logf("engine log:\n%s", logBuf.String())
	}
	if len(ok) == 0 || len(noSpace) == 0 {
		t.Fatalf("want some calls recorded and some refused for want of space; got %d and %d", len(ok), len(noSpace))
	}
	verifyOpenIndex(t, e.Index, data)
	orphans, orphanBytes := unsignedFiles(t, data)
	t.Logf("%d unsigned partial files (%d bytes) left by the failed recordings", orphans, orphanBytes)

	// The storage manager sees the disk full and may delete nothing: no
	// recording is offloaded.
	m := storage.New(storage.Config{DataDir: data, MinFreeBytes: 1 << 20}, e.Index, nil)
	rep, err := m.RunOnce(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st := m.Status()
	t.Logf("storage: %+v; fault LED %s", st, faultLED(st))
	if !st.Full || !st.NearFull {
		t.Errorf("storage status not full: %+v", st)
	}
	if len(rep.Deleted) != 0 {
		t.Errorf("deleted recordings that were not offloaded: %v", rep.Deleted)
	}
	if faultLED(st).Mode == led.ModeOff {
		t.Errorf("fault LED off with the disk full")
	}
	for _, c := range ok {
		if _, err := os.Stat(filepath.Join(data, filepath.FromSlash(c.File))); err != nil {
			t.Errorf("recording %s: %v", c.ID, err)
		}
	}

	// Space comes back: new calls are recorded again, by the same engine.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	second := fullCalls(t, 5, 100, day.Add(time.Hour))
	capture2, res2 := writeCapture(t, scenario{calls: second})
	if err := e.ImportFile(context.Background(), capture2); err != nil {
		t.Fatalf("import after freeing space: %v", err)
	}
	e.Drain()
	got = indexByCallee(t, e.Index)
	for i, c := range second {
		ic := got[c.CalleeNum]
		if ic == nil || !ic.Recorded {
			t.Errorf("call %s after space came back: %+v", c.CalleeNum, ic)
			continue
		}
		checkAudio(t, data, ic, res2[i], callerAudio, calleeAudio, false, 0.99)
	}
	if _, err := m.RunOnce(time.Now()); err != nil {
		t.Fatal(err)
	}
	t.Logf("after freeing space and 5 more calls: %+v", m.Status())
	verifyOpenIndex(t, e.Index, data)
	if err := e.Close("capture-ended"); err != nil {
		t.Fatalf("close: %v", err)
	}
	closed = true

	// A restart repairs what is still marked in progress (nothing, if
	// every final index write made it).
	e2, err := Open(Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e2.Recover()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restart after the disk-full import: %d partial recordings finished and signed, %d failed", len(rec.Repaired), len(rec.Failed))
	if len(rec.Failed) > 0 {
		t.Errorf("recovery failed for %v", rec.Failed)
	}
	// With space back, the partial files the full disk left are finished,
	// signed and indexed as incomplete recordings: none is left unsigned.
	if n, bytes := unsignedFiles(t, data); n != 0 {
		t.Errorf("%d unsigned partial files (%d bytes) left after the restart", n, bytes)
	}
	if err := e2.Close("test"); err != nil {
		t.Fatal(err)
	}
	if err := verifyChain(t, data); err != nil {
		t.Fatal(err)
	}

	// Offload some recordings; a free-space floor above the disk's size
	// makes the manager delete every offloaded one, and only those.
	ix, err := index.Open(datadir.Layout(data).Index())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var recs []*index.Call
	if err := ix.List(func(c *index.Call) error {
		if c.Recorded {
			recs = append(recs, c)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	offloaded := map[string]bool{}
	for i, c := range recs {
		if i%3 == 0 {
			if err := ix.MarkOffloaded(c.ID, "sftp://rec@archive:22/spanrec/"+c.File, time.Now()); err != nil {
				t.Fatal(err)
			}
			offloaded[c.ID] = true
		}
	}
	freeBefore := freeBytes(t, data)
	m = storage.New(storage.Config{DataDir: data, MinFreeBytes: 64 << 20}, ix, nil)
	rep, err = m.RunOnce(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st = m.Status()
	t.Logf("floor above the disk size: %d of %d recordings offloaded, deleted %d (%d bytes), free %d -> %d; %+v",
		len(offloaded), len(recs), len(rep.Deleted), rep.Freed, freeBefore, freeBytes(t, data), st)
	if len(rep.Deleted) != len(offloaded) {
		t.Errorf("deleted %d recordings, want the %d offloaded ones", len(rep.Deleted), len(offloaded))
	}
	if !st.Full || faultLED(st).Mode == led.ModeOff {
		t.Errorf("still below the floor with nothing left to delete: status %+v, LED %s", st, faultLED(st))
	}
	for _, c := range recs {
		now, err := ix.Get(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, statErr := os.Stat(filepath.Join(data, filepath.FromSlash(c.File)))
		switch {
		case offloaded[c.ID]:
			if now.Deleted.IsZero() || !strings.Contains(now.DeleteReason, "disk full") || !errors.Is(statErr, fs.ErrNotExist) {
				t.Errorf("offloaded %s: deleted %v reason %q, file: %v", c.ID, now.Deleted, now.DeleteReason, statErr)
			}
		default:
			if !now.Deleted.IsZero() || statErr != nil {
				t.Errorf("not offloaded %s was deleted (%q) or is gone: %v", c.ID, now.DeleteReason, statErr)
			}
		}
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := verifyChain(t, data); err != nil {
		t.Fatal(err)
	}
}

// unsignedFiles counts the files under recordings/ that carry no valid
// signature, and their size.
func unsignedFiles(t *testing.T, data string) (n int, size int64) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(data, "recordings"), func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		if sign.VerifyFile(p, nil) != nil {
			n++
			if info, err := de.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, size
}
