package users

import "time"

// Defaults of FailureDelay: 1 s, 2 s, 4 s ... 30 s.
const (
	DefaultFailureDelay    = time.Second
	DefaultMaxFailureDelay = 30 * time.Second
)

// FailureDelay is how long to hold back the next login after the n-th
// failure in a row (n >= 1) from one place (a serial line, a local user):
// first, doubled for each further failure, at most max. It slows guessing
// without locking the account, which would let anyone keep its owner
// out.
func FailureDelay(n int, first, max time.Duration) time.Duration {
	if n < 1 || first <= 0 {
		return 0
	}
	d := first
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
