package daemon

import (
	"time"

	"spanrec/firmware/clock"
	"spanrec/firmware/control"
	"spanrec/firmware/metrics"
)

// clockState is the clock's state as the capture loop last read it.
type clockState struct {
	st    clock.State
	err   error
	floor time.Time // the build time: a clock before it is wrong
	now   time.Time // when it was read
}

// unsynced tells whether the clock cannot be trusted: the kernel says so,
// cannot say, or the time is before the build.
func (c clockState) unsynced() bool {
	return c.err != nil || !c.st.Synced || !clock.Trusted(c.now, c.floor)
}

// readClock reads the clock's state (capture loop, each second).
func (d *Daemon) readClock(now time.Time) {
	st, err := d.opts.Clock.State()
	d.app.clock = clockState{st: st, err: err, floor: d.app.clock.floor, now: now}
}

// statusClock is the clock for status and the console's time.
func statusClock(c clockState) *control.ClockState {
	out := &control.ClockState{
		Synced:      !c.unsynced(),
		EstErrorMS:  float64(c.st.EstError) / float64(time.Millisecond),
		MaxErrorMS:  float64(c.st.MaxError) / float64(time.Millisecond),
		BeforeBuild: !clock.Trusted(c.now, c.floor),
		BuildTime:   c.floor.UTC(),
	}
	if c.err != nil {
		out.Error = c.err.Error()
	}
	return out
}

// clockMetrics fills the clock's metrics (capture loop).
func (d *Daemon) clockMetrics(s *metrics.Snapshot) {
	c := d.app.clock
	if c.err != nil {
		return
	}
	s.ClockKnown = true
	s.ClockSynced = !c.unsynced()
	s.ClockEstErrorSeconds = c.st.EstError.Seconds()
	s.ClockMaxErrorSeconds = c.st.MaxError.Seconds()
}
