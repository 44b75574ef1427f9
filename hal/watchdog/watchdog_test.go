package watchdog

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestDevWatchdogRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "watchdog")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, 14500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// ENOTTY from the stand-in: the requested timeout is reported as is.
	if w.Timeout() != 14500*time.Millisecond {
		t.Errorf("Timeout = %v", w.Timeout())
	}
	for range 3 {
		if err := w.Kick(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := w.Kick(); !errors.Is(err, ErrClosed) {
		t.Errorf("Kick after Close = %v, want ErrClosed", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "kkkV" {
		t.Errorf("device got %q, want three kicks then the magic V", got)
	}
}

// A FIFO stands in for /dev/watchdog; the test reads what a driver would
// receive, as it is written.
func TestDevWatchdogFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "watchdog")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	rfd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := os.NewFile(uintptr(rfd), path)
	defer r.Close()

	w, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if w.Timeout() != 0 {
		t.Errorf("Timeout = %v, want 0 (driver default unknown)", w.Timeout())
	}
	ctx, cancel := context.WithCancel(t.Context())
	ticks := make(chan time.Time)
	done := make(chan error, 1)
	go func() { done <- run(ctx, w, ticks, nil) }()
	b := make([]byte, 1)
	for i := range 4 {
		if i > 0 {
			ticks <- time.Time{}
		}
		if _, err := io.ReadFull(r, b); err != nil || b[0] != 'k' {
			t.Fatalf("kick %d: read %q, %v", i, b, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != "V" {
		t.Errorf("after cancel the device got %q, want the magic V", rest)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "none"), time.Second); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open missing = %v", err)
	}
	if _, err := Open("/dev/null", -time.Second); !errors.Is(err, ErrBadTimeout) {
		t.Errorf("Open negative timeout = %v", err)
	}
}

// fakeWD is a minimal Watchdog for the Run tests in this package (the
// shared fake in watchdogtest imports this package).
type fakeWD struct {
	kicks   int
	closed  bool
	kickErr error
}

func (f *fakeWD) Kick() error {
	if f.kickErr != nil {
		return f.kickErr
	}
	f.kicks++
	return nil
}
func (f *fakeWD) Close() error           { f.closed = true; return nil }
func (f *fakeWD) Timeout() time.Duration { return time.Minute }

// Run stops kicking while unhealthy and resumes when healthy again. The
// test answers each health check and sends each tick over unbuffered
// channels, so every step is ordered: no timing involved.
func TestRunKicksOnlyWhileHealthy(t *testing.T) {
	wd := &fakeWD{}
	health := make(chan bool)
	ctx, cancel := context.WithCancel(t.Context())
	ticks := make(chan time.Time)
	done := make(chan error, 1)
	go func() { done <- run(ctx, wd, ticks, func() bool { return <-health }) }()
	var got []int
	for _, h := range []bool{true, true, false, false, false, true, true} {
		health <- h
		ticks <- time.Time{} // returns once this iteration's kick is done
		got = append(got, wd.kicks)
	}
	health <- false
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []int{1, 2, 2, 2, 2, 3, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("kick counts %v, want %v", got, want)
		}
	}
	if wd.kicks != 4 || !wd.closed {
		t.Errorf("end: %d kicks, closed %v; want 4, closed", wd.kicks, wd.closed)
	}
}

func TestRunKickError(t *testing.T) {
	boom := errors.New("boom")
	wd := &fakeWD{kickErr: boom}
	if err := Run(t.Context(), wd, time.Second, nil); !errors.Is(err, boom) || wd.closed {
		t.Errorf("Run with failing kick = %v, closed %v", err, wd.closed)
	}
	if err := Run(t.Context(), wd, 0, nil); !errors.Is(err, ErrBadInterval) {
		t.Errorf("Run with 0 interval = %v", err)
	}
}

func TestHeartbeat(t *testing.T) {
	now := time.Unix(1000, 0)
	h := NewHeartbeat(func() time.Time { return now })
	check := h.Within(10 * time.Second)
	if !check() {
		t.Error("fresh heartbeat not healthy")
	}
	now = now.Add(10 * time.Second)
	if !check() {
		t.Error("heartbeat exactly maxAge old not healthy")
	}
	now = now.Add(time.Nanosecond)
	if check() {
		t.Error("stale heartbeat healthy")
	}
	h.Beat()
	if !check() {
		t.Error("heartbeat after Beat not healthy")
	}
}
