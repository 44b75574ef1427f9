// Package clocktest has settable clocks for tests: a clock.Source, and
// a wall clock.
package clocktest

import (
	"sync"
	"time"

	"spanrec/firmware/clock"
)

// Fake is a clock.Source whose state the test sets; safe for concurrent
// use. The zero value is an unsynchronised clock.
type Fake struct {
	mu  sync.Mutex
	st  clock.State
	err error
}

// New returns a Fake in state st.
func New(st clock.State) *Fake { return &Fake{st: st} }

// Set changes the state (and clears an error).
func (f *Fake) Set(st clock.State) {
	f.mu.Lock()
	f.st, f.err = st, nil
	f.mu.Unlock()
}

// Fail makes State return err.
func (f *Fake) Fail(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// State implements clock.Source.
func (f *Fake) State() (clock.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st, f.err
}

// Time is a settable wall clock: its Now goes where an option takes a
// clock (users.Options.Now, the session and login throttle clocks). Safe
// for concurrent use.
type Time struct {
	mu sync.Mutex
	t  time.Time
}

// NewTime returns a Time at t.
func NewTime(t time.Time) *Time { return &Time{t: t} }

// Now returns the time.
func (c *Time) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the time by d.
func (c *Time) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
