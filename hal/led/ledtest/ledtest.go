// Package ledtest provides a fake led.LED for tests of code that drives LEDs.
package ledtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"spanrec/hal/led"
)

// Fake is an led.LED that records what it was told to show. It is safe for
// concurrent use. The zero value is not usable; call New.
type Fake struct {
	name string

	mu      sync.Mutex
	state   led.State
	history []led.State
	err     error
	changed chan struct{} // closed and replaced on every call
}

var _ led.LED = (*Fake)(nil)

// New returns a Fake LED called name, initially off with an empty history.
func New(name string) *Fake {
	return &Fake{name: name, changed: make(chan struct{})}
}

// Name returns the name given to New.
func (f *Fake) Name() string { return f.name }

// Set records a steady on or off state.
func (f *Fake) Set(on bool) error { return f.record(led.Steady(on)) }

// Blink records a blinking state; like SysfsLED it rejects non-positive periods.
func (f *Fake) Blink(on, off time.Duration) error {
	if on <= 0 || off <= 0 {
		return fmt.Errorf("led %s: blink %v/%v: %w", f.name, on, off, led.ErrBadPeriod)
	}
	return f.record(led.Blinking(on, off))
}

func (f *Fake) record(s led.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.state = s
	f.history = append(f.history, s)
	close(f.changed)
	f.changed = make(chan struct{})
	return nil
}

// Fail makes every later Set and Blink return err without changing state;
// Fail(nil) restores normal behaviour.
func (f *Fake) Fail(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// State returns what the LED currently shows.
func (f *Fake) State() led.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// History returns every state set so far, in order, including repeats.
func (f *Fake) History() []led.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]led.State(nil), f.history...)
}

// WaitFor blocks until the LED shows want (returning at once if it already
// does) or ctx is done, in which case it returns an error naming the state
// last seen.
func (f *Fake) WaitFor(ctx context.Context, want led.State) error {
	for {
		f.mu.Lock()
		cur, ch := f.state, f.changed
		f.mu.Unlock()
		if cur == want {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("led %s: waiting for %v, shows %v: %w", f.name, want, cur, ctx.Err())
		}
	}
}
