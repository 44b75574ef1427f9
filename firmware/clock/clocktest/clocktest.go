// Package clocktest is a settable clock.Source for tests.
package clocktest

import (
	"sync"

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
