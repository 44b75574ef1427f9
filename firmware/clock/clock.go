package clock

import (
	"runtime/debug"
	"time"
)

// State is the kernel clock's synchronisation state.
type State struct {
	// Synced: a time client disciplines the clock (STA_UNSYNC clear and
	// the kernel's clock state not TIME_ERROR).
	Synced bool
	// EstError and MaxError are the kernel's estimated and maximum error
	// (adjtimex esterror and maxerror).
	EstError, MaxError time.Duration
}

// Source reads the clock's state. It must be safe for concurrent use.
type Source interface {
	State() (State, error)
}

// release is the earliest time this firmware's source can have been
// built: the floor when the build carries no commit time.
func release() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }

// BuildTime returns the earliest time the firmware can believe: the
// commit time of its build (go build -buildvcs) or the release date
// compiled in, whichever is later.
func BuildTime() time.Time {
	t := release()
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if vt, err := time.Parse(time.RFC3339, s.Value); err == nil && vt.After(t) {
					t = vt
				}
			}
		}
	}
	return t
}

// Trusted reports whether t can be a real date: not before floor.
func Trusted(t, floor time.Time) bool { return !t.Before(floor) }
