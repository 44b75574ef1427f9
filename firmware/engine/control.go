package engine

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"spanrec/firmware/calls"
)

// ErrNoSuchCall is returned (wrapped, with the ID) when no active call
// has the given ID: the one definition of the condition, which the
// control API answers 404 and its client's errors match.
var ErrNoSuchCall = errors.New("no such call")

// Calls returns the calls in the table, oldest first.
func (e *Engine) Calls() []*calls.Call {
	cs := e.tracker.Calls()
	sort.Slice(cs, func(i, j int) bool { return cs[i].Start.Before(cs[j].Start) })
	return cs
}

// PartStart returns when c's current recording file began (zero when the
// call is not being recorded).
func (e *Engine) PartStart(c *calls.Call) time.Time { return e.recorder.PartStart(c) }

// Paused reports whether c's recording is paused.
func (e *Engine) Paused(c *calls.Call) bool { return e.recorder.Paused(c) }

// answered returns the answered calls matching id: "" or "all" for every
// one, else the call whose index ID or SIP Call-ID is id.
func (e *Engine) answered(id string) ([]*calls.Call, error) {
	var out []*calls.Call
	for _, c := range e.Calls() {
		if c.State != calls.Answered {
			continue
		}
		if id == "" || id == "all" || c.ID == id || c.CallID == id {
			out = append(out, c)
		}
	}
	if len(out) == 0 && id != "" && id != "all" {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchCall, id)
	}
	return out, nil
}

// Pause pauses the recording of the call id ("all": every call) at at.
// It returns how many recordings it paused; a call already paused is
// left as it is.
func (e *Engine) Pause(id, source string, at time.Time) (int, error) {
	return e.each(id, func(c *calls.Call) error { return e.recorder.Pause(c, source, at) })
}

// Resume resumes the recording of the call id ("all": every call).
func (e *Engine) Resume(id, source string, at time.Time) (int, error) {
	return e.each(id, func(c *calls.Call) error { return e.recorder.Resume(c, source, at) })
}

// each applies fn to the answered calls matching id and counts those it
// succeeded on.
func (e *Engine) each(id string, fn func(c *calls.Call) error) (int, error) {
	cs, err := e.answered(id)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cs {
		if fn(c) == nil {
			n++
		}
	}
	return n, nil
}

// Tick runs the time-driven work at wall-clock time now (live capture):
// timeouts of calls whose packets stopped (on the wall clock: they run
// even when no packet comes any more), and, on the capture clock (the time
// of the newest packet, which lags the wall clock while the daemon works
// through a backlog), the split of calls whose current file is older than
// Options.MaxDuration and the periodic flush of recordings (every
// FlushInterval), so that audio still on its way through the capture ring
// is never cut off.
func (e *Engine) Tick(now time.Time) {
	e.tracker.Expire(now)
	e.recorder.FlushIndex()
	captured := e.tracker.Now()
	if captured.IsZero() || captured.After(now) {
		captured = now
	}
	e.splitLong(captured)
	for _, c := range e.tracker.Calls() {
		if c.State == calls.Answered {
			e.recorder.Flush(c, captured, e.opts.FlushInterval)
		}
	}
}

// splitLong starts a new file for every call whose current one began
// Options.MaxDuration or more before now. It runs on capture time too (every
// second of it, from the pipeline), so an import splits as live capture
// does.
func (e *Engine) splitLong(now time.Time) {
	if e.opts.MaxDuration <= 0 {
		return
	}
	for _, c := range e.tracker.Calls() {
		if c.State != calls.Answered {
			continue
		}
		if start := e.recorder.PartStart(c); !start.IsZero() && now.Sub(start) >= e.opts.MaxDuration {
			e.recorder.Split(c, now)
		}
	}
}
