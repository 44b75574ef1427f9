// Package buttontest provides a fake button.Button for tests of code that
// reacts to the front button.
package buttontest

import (
	"context"
	"sync"
	"time"

	"spanrec/hal/button"
)

// Fake is a button.Button pressed by the test. Every call to Presses is a
// subscription; each press goes to one subscriber. The zero value is not
// usable; call New.
type Fake struct {
	in chan request

	mu   sync.Mutex
	subs int
}

type request struct {
	p         button.Press
	delivered chan bool
}

var _ button.Button = (*Fake)(nil)

// New returns a Fake with no subscribers.
func New() *Fake { return &Fake{in: make(chan request)} }

// Presses returns a channel delivering the presses made with Press, PressAt
// and Send, closed when ctx is done.
func (f *Fake) Presses(ctx context.Context) <-chan button.Press {
	out := make(chan button.Press)
	f.mu.Lock()
	f.subs++
	f.mu.Unlock()
	go func() {
		defer close(out)
		defer func() {
			f.mu.Lock()
			f.subs--
			f.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case r := <-f.in:
				select {
				case out <- r.p:
					r.delivered <- true
				case <-ctx.Done():
					r.delivered <- false
					return
				}
			}
		}
	}()
	return out
}

// Subscribers returns how many Presses channels are open.
func (f *Fake) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subs
}

// Press presses the button now (long or short) and blocks until a
// subscriber has received the press.
func (f *Fake) Press(long bool) {
	f.PressAt(button.Press{Time: time.Now(), Long: long})
}

// PressAt delivers p and blocks until a subscriber has received it.
func (f *Fake) PressAt(p button.Press) {
	_ = f.Send(context.Background(), p)
}

// Send delivers p to a subscriber, blocking until one has received it or
// ctx is done (then it returns ctx's error).
func (f *Fake) Send(ctx context.Context, p button.Press) error {
	for {
		r := request{p: p, delivered: make(chan bool, 1)}
		select {
		case f.in <- r:
			if <-r.delivered {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
