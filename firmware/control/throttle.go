package control

import (
	"sync"
	"time"

	"spanrec/firmware/users"
)

// maxThrottled bounds the uids whose failed logins are remembered.
const maxThrottled = 1024

// loginThrottle holds back logins over the socket from a local user
// after failed ones: the n-th failure in a row makes that uid wait
// users.FailureDelay(n) before the next attempt is even checked. Root is
// not held back: it is the serial console, which slows each of its lines
// itself (so one hammered line does not hold back the admin on another).
// Accounts are never locked.
type loginThrottle struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[uint32]throttled
}

type throttled struct {
	failures int
	until    time.Time
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	if now == nil {
		now = time.Now
	}
	return &loginThrottle{now: now, m: make(map[uint32]throttled)}
}

// wait returns how long uid must still wait before its next login (0:
// go ahead).
func (t *loginThrottle) wait(uid uint32) time.Duration {
	if uid == 0 {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(t.m[uid].until.Sub(t.now()), 0)
}

// failed counts a failed login of uid.
func (t *loginThrottle) failed(uid uint32) {
	if uid == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.m) >= maxThrottled {
		for k, s := range t.m {
			if !now.Before(s.until.Add(users.DefaultMaxFailureDelay)) {
				delete(t.m, k)
			}
		}
	}
	s := t.m[uid]
	s.failures++
	s.until = now.Add(users.FailureDelay(s.failures, users.DefaultFailureDelay, users.DefaultMaxFailureDelay))
	t.m[uid] = s
}

// succeeded forgets uid's failures.
func (t *loginThrottle) succeeded(uid uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, uid)
}
