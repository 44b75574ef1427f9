package button

import "time"

// debouncer turns raw key transitions (with kernel timestamps) into presses.
// A transition that comes within debounce of the last accepted one is taken
// as contact bounce and ignored, but remembered as the raw level: when the
// lockout ends with the raw level differing from the accepted one (a tap
// shorter than the debounce window, or a bounce that ended on the other
// level), settle accepts the raw level at the end of the lockout.
type debouncer struct {
	debounce, long time.Duration

	down         bool      // accepted level
	raw          bool      // last raw level seen
	lastAccepted time.Time // time of the last accepted transition
	downAt       time.Time // when the accepted press started
}

// event feeds one raw transition (down true = pressed) at t. It returns a
// press when the event (or a pending settle it implies) completes one.
func (d *debouncer) event(down bool, t time.Time) (Press, bool) {
	// At most one of the settle and the event itself completes a press: a
	// settled release leaves the button up, so this event can only press it.
	p, ok := d.settle(t)
	d.raw = down
	if down == d.down || (!d.lastAccepted.IsZero() && t.Sub(d.lastAccepted) < d.debounce) {
		return p, ok
	}
	if q, qok := d.accept(down, t); qok {
		return q, true
	}
	return p, ok
}

// settle accepts a raw level left pending by the lockout if, at now, the
// lockout is over. It returns the press this completes, if any.
func (d *debouncer) settle(now time.Time) (Press, bool) {
	if d.raw == d.down || d.lastAccepted.IsZero() {
		return Press{}, false
	}
	end := d.lastAccepted.Add(d.debounce)
	if now.Before(end) {
		return Press{}, false
	}
	return d.accept(d.raw, end)
}

// pending reports whether a settle is due, and when (in event time).
func (d *debouncer) pending() (time.Time, bool) {
	if d.raw == d.down || d.lastAccepted.IsZero() {
		return time.Time{}, false
	}
	return d.lastAccepted.Add(d.debounce), true
}

func (d *debouncer) accept(down bool, t time.Time) (Press, bool) {
	d.down, d.lastAccepted = down, t
	if down {
		d.downAt = t
		return Press{}, false
	}
	// A clock step back (evdev stamps events with CLOCK_REALTIME) gives a
	// negative hold, counted as a short press.
	return Press{Time: d.downAt, Long: t.Sub(d.downAt) >= d.long}, true
}

// reset sets the accepted and raw level after a resynchronisation (events
// were dropped), without reporting a press.
func (d *debouncer) reset(down bool, t time.Time) {
	if down && !d.down {
		d.downAt = t
	}
	d.down, d.raw, d.lastAccepted = down, down, t
}
