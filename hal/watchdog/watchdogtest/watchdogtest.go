// Package watchdogtest provides a fake watchdog.Watchdog for tests of code
// that keeps the watchdog fed.
package watchdogtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"spanrec/hal/watchdog"
)

// Fake is a watchdog.Watchdog that counts kicks. It is safe for concurrent
// use. The zero value is not usable; call New.
type Fake struct {
	timeout time.Duration

	mu      sync.Mutex
	kicks   int
	closed  bool
	kickErr error
	changed chan struct{} // closed and replaced on every kick and close
}

var _ watchdog.Watchdog = (*Fake)(nil)

// New returns an armed Fake with the given timeout.
func New(timeout time.Duration) *Fake {
	return &Fake{timeout: timeout, changed: make(chan struct{})}
}

// Timeout returns the timeout given to New.
func (f *Fake) Timeout() time.Duration { return f.timeout }

// Kick counts a kick, or returns the error set with FailKicks.
func (f *Fake) Kick() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("kick fake watchdog: %w", watchdog.ErrClosed)
	}
	if f.kickErr != nil {
		return f.kickErr
	}
	f.kicks++
	f.notify()
	return nil
}

// Close records a (magic) close. It is idempotent.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		f.notify()
	}
	return nil
}

func (f *Fake) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// FailKicks makes later kicks return err (nil restores them).
func (f *Fake) FailKicks(err error) {
	f.mu.Lock()
	f.kickErr = err
	f.mu.Unlock()
}

// Kicks returns how many kicks succeeded.
func (f *Fake) Kicks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.kicks
}

// Closed reports whether Close was called.
func (f *Fake) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// WaitKicks blocks until at least n kicks happened or ctx is done.
func (f *Fake) WaitKicks(ctx context.Context, n int) error {
	return f.wait(ctx, func() bool { return f.kicks >= n }, fmt.Sprintf("%d kicks", n))
}

// WaitClosed blocks until Close was called or ctx is done.
func (f *Fake) WaitClosed(ctx context.Context) error {
	return f.wait(ctx, func() bool { return f.closed }, "close")
}

func (f *Fake) wait(ctx context.Context, done func() bool, what string) error {
	for {
		f.mu.Lock()
		ok, ch, kicks := done(), f.changed, f.kicks
		f.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fake watchdog: waiting for %s (%d kicks): %w", what, kicks, ctx.Err())
		}
	}
}
