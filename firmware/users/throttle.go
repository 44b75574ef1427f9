package users

import (
	"sync"
	"time"
)

// maxThrottled bounds the places whose failed logins a Throttle
// remembers.
const maxThrottled = 1024

// Throttle holds back logins from one place (a local uid, a client
// address) after failed ones: the n-th failure in a row makes that place
// wait FailureDelay(n) before its next attempt is even checked. Accounts
// are never locked. It is safe for concurrent use.
type Throttle[K comparable] struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[K]throttled
}

type throttled struct {
	failures int
	until    time.Time
}

// NewThrottle returns an empty throttle; now nil means time.Now.
func NewThrottle[K comparable](now func() time.Time) *Throttle[K] {
	if now == nil {
		now = time.Now
	}
	return &Throttle[K]{now: now, m: make(map[K]throttled)}
}

// Wait returns how long k must still wait before its next login (0: go
// ahead).
func (t *Throttle[K]) Wait(k K) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(t.m[k].until.Sub(t.now()), 0)
}

// Failed counts a failed login from k.
func (t *Throttle[K]) Failed(k K) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.m) >= maxThrottled {
		for p, s := range t.m {
			if !now.Before(s.until.Add(DefaultMaxFailureDelay)) {
				delete(t.m, p)
			}
		}
	}
	s := t.m[k]
	s.failures++
	s.until = now.Add(FailureDelay(s.failures, DefaultFailureDelay, DefaultMaxFailureDelay))
	t.m[k] = s
}

// Succeeded forgets k's failures.
func (t *Throttle[K]) Succeeded(k K) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, k)
}
